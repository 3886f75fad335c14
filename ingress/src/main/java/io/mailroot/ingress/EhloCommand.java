package io.mailroot.ingress;

import io.mailroot.ingress.auth.AuthCommand;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;

/**
 * EHLO, listing exactly the extensions Mailroot honours. The stock SubEthaSMTP one does not advertise PIPELINING
 * (which its command loop handles well) and does advertise CHUNKING and SMTPUTF8, which Mailroot does not promise.
 * STARTTLS is offered while the session is still in clear text, AUTH only where a password may be sent (over TLS,
 * unless the virtual server allows it without).
 */
final class EhloCommand implements SmtpVerb {

    @Override
    public String verb() {
        return "EHLO";
    }

    private final boolean startTls;
    private final AuthCommand auth;

    /** EHLO without STARTTLS or AUTH. */
    EhloCommand() {
        this(false, null);
    }

    /**
     * @param startTls whether the virtual server has TLS on
     * @param auth the AUTH command, asked whether it is offered on the session; null for none
     */
    EhloCommand(boolean startTls, AuthCommand auth) {
        this.startTls = startTls;
        this.auth = auth;
    }

    @Override
    public void execute(String commandString, Session session) throws IOException {
        String[] args = SmtpVerb.words(commandString);
        if (args.length < 2) {
            session.sendResponse("501 5.5.4 Syntax: EHLO hostname");
            return;
        }
        session.resetMailTransaction();
        session.setHelo(args[1]);
        SMTPServer server = session.getServer();
        int max = server.getMaxMessageSize();
        List<String> lines = new ArrayList<>();
        lines.add(server.getHostName());
        lines.add("SIZE" + (max > 0 ? " " + max : ""));
        lines.add("PIPELINING");
        lines.add("8BITMIME");
        lines.add("ENHANCEDSTATUSCODES");
        lines.add("DSN");
        if (startTls && !session.isTLSStarted()) {
            lines.add("STARTTLS");
        }
        if (auth != null && auth.offered(session)) {
            lines.add("AUTH PLAIN LOGIN");
        }
        StringBuilder reply = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            reply.append(i < lines.size() - 1 ? "250-" : "250 ").append(lines.get(i));
            if (i < lines.size() - 1) {
                reply.append("\r\n");
            }
        }
        session.sendResponse(reply.toString());
    }
}
