package io.mailroot.ingress.connection;

/**
 * What one connection said and heard, as the protocol log wants it: told by {@link CommandInput} of every command
 * line (handed on or refused) and of the bytes read after it, and by {@link ReplyOutput} of every reply byte. Each
 * call comes as the bytes pass, on whatever thread moves them; an implementation must be quick and never block.
 */
public interface ProtocolTrail {

    /** For a connection nobody logs. */
    ProtocolTrail NONE = new ProtocolTrail() {
        @Override
        public void commandLine(String line, long octets) {
        }

        @Override
        public void bytesRead(long octets) {
        }

        @Override
        public void replied(byte[] b, int off, int len) {
        }
    };

    /** A whole command line, without its CRLF; {@code octets} as received, CRLF included. */
    void commandLine(String line, long octets);

    /** Octets read for the command in progress: AUTH responses, message text. */
    void bytesRead(long octets);

    /** Reply octets on their way to the client, cut wherever the writer cut them. */
    void replied(byte[] b, int off, int len);
}
