package io.mailroot.ingress;

import java.io.IOException;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;

/**
 * EHLO, listing exactly the extensions Mailroot honours. The stock SubEthaSMTP one does not advertise PIPELINING
 * (which its command loop handles well) and does advertise CHUNKING and SMTPUTF8, which Mailroot does not promise.
 */
final class EhloCommand extends BaseCommand {

    EhloCommand() {
        super("EHLO", "Introduce yourself.", "<hostname>");
    }

    @Override
    public void execute(String commandString, Session session) throws IOException {
        String[] args = getArgs(commandString);
        if (args.length < 2) {
            session.sendResponse("501 5.5.4 Syntax: EHLO hostname");
            return;
        }
        session.resetMailTransaction();
        session.setHelo(args[1]);
        SMTPServer server = session.getServer();
        int max = server.getMaxMessageSize();
        session.sendResponse("250-" + server.getHostName() + "\r\n"
                + "250-SIZE" + (max > 0 ? " " + max : "") + "\r\n"
                + "250-PIPELINING\r\n"
                + "250 8BITMIME");
    }
}
