package io.mailroot.ingress;

import io.mailroot.ingress.connection.TrackedSocket;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.internal.server.Command;
import org.subethamail.smtp.internal.server.CommandException;
import org.subethamail.smtp.internal.server.HelpMessage;
import org.subethamail.smtp.server.Session;

/**
 * Wraps every command: a command line longer than RFC 5321's 512 octets (CRLF included) gets
 * {@code 500 5.5.2 Line too long} instead of running. AUTH may be longer (RFC 4954 section 4). It also notes
 * whether the client greeted with HELO or EHLO, which the Received header reports.
 *
 * <p>Once the connection has had {@link TrackedSocket#MAX_ERRORS} (it was told {@code 421 4.7.0} and closed), no
 * command runs any more: SubEthaSMTP may still hold pipelined lines read before the close.
 */
final class CommandLineLimit implements Command {

    /** RFC 5321 section 4.5.3.1.4, CRLF included. */
    static final int MAX_COMMAND_LINE = 512;
    /** RFC 4954 section 4 for AUTH and its initial response. */
    static final int MAX_AUTH_LINE = 12288;

    private final Command wrapped;
    private final SessionLedger.Registry sessions;

    CommandLineLimit(Command wrapped, SessionLedger.Registry sessions) {
        this.wrapped = wrapped;
        this.sessions = sessions;
    }

    @Override
    public void execute(String commandString, Session session) throws IOException, DropConnectionException {
        if (TrackedSocket.tooManyErrors(session.getSocket())) {
            throw new DropConnectionException(421, "4.7.0 Too many errors, closing connection");
        }
        int max = "AUTH".equals(getName()) ? MAX_AUTH_LINE : MAX_COMMAND_LINE;
        // characters are at most 3 UTF-8 octets each (the reader yields UTF-16 units): count only when it matters
        if (commandString.length() * 3 + 2 > max && commandString.getBytes(StandardCharsets.UTF_8).length + 2 > max) {
            session.sendResponse("500 5.5.2 Line too long");
            return;
        }
        wrapped.execute(commandString, session);
        String verb = getName();
        if (("EHLO".equals(verb) || "HELO".equals(verb)) && session.getHelo().isPresent()) {
            sessions.of(session).extended = "EHLO".equals(verb);
        }
    }

    @Override
    public HelpMessage getHelp() throws CommandException {
        return wrapped.getHelp();
    }

    @Override
    public String getName() {
        return wrapped.getName();
    }
}
