package io.mailroot.ingress;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.internal.io.DotTerminatedInputStream;
import org.subethamail.smtp.internal.io.DotUnstuffingInputStream;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.internal.server.CommandHandler;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;

/**
 * The few SubEthaSMTP 7.2 commands Mailroot replaces. This is the one place that touches SubEthaSMTP's internal
 * package; everything else talks to it through {@code MessageHandler}. Why each is replaced:
 * <ul>
 * <li>EHLO ({@link EhloCommand}): the stock one does not advertise PIPELINING (which its command loop handles
 * well) and does advertise CHUNKING and SMTPUTF8, which Mailroot does not promise.</li>
 * <li>DATA: after a rejected message the stock one neither reads the rest of the message (so the client's
 * remaining lines would run as commands) nor ends the transaction (so the next MAIL FROM gets 503).</li>
 * <li>BDAT: not advertised, so refused rather than half-supported.</li>
 * </ul>
 */
final class SmtpCommands {

    private static final Logger LOG = LoggerFactory.getLogger(SmtpCommands.class);

    private SmtpCommands() {
    }

    static void install(SMTPServer server) {
        CommandHandler commands = server.getCommandHandler();
        commands.addCommand(new EhloCommand());
        commands.addCommand(new Data());
        commands.addCommand(new NotImplemented("BDAT"));
    }

    static final class Data extends BaseCommand {

        Data() {
            super("DATA", "Following text is collected as the message.\nEnd data with <CR><LF>.<CR><LF>");
        }

        @Override
        public void execute(String commandString, Session session) throws IOException, DropConnectionException {
            if (!session.isMailTransactionInProgress()) {
                session.sendResponse("503 5.5.1 Error: need MAIL command");
                return;
            }
            if (session.getRecipientCount() == 0) {
                session.sendResponse("503 5.5.1 Error: need RCPT command");
                return;
            }
            session.sendResponse("354 End data with <CR><LF>.<CR><LF>");
            InputStream message = new DotUnstuffingInputStream(new DotTerminatedInputStream(session.getRawInput()));
            String reply;
            try {
                String text = session.getMessageHandler().data(message);
                reply = text == null ? "250 2.0.0 Ok" : "250 " + text;
            } catch (RejectException e) {
                reply = e.getErrorResponse();
            } catch (RuntimeException e) {
                // A bug must not cost the message: a 4xx makes the client keep it and try again.
                LOG.error("unexpected failure receiving a message", e);
                reply = "451 4.3.0 Local error in processing";
            }
            try {
                message.transferTo(OutputStream.nullOutputStream());
                session.sendResponse(reply);
            } finally {
                session.resetMailTransaction();
            }
        }
    }

    static final class NotImplemented extends BaseCommand {

        NotImplemented(String verb) {
            super(verb, "Not implemented.");
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            session.sendResponse("502 5.5.1 " + getName() + " not implemented");
        }
    }
}
