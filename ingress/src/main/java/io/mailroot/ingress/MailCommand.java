package io.mailroot.ingress;

import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.Session;

/**
 * MAIL FROM, with the reverse path read by {@link MailboxAddress} and every ESMTP parameter either understood or
 * refused. The stock command ignores unknown parameters and reads SIZE only; the virtual server's demands (TLS,
 * AUTH, message and session size) are answered by {@link SmtpTransaction#mailFrom}.
 */
final class MailCommand implements SmtpVerb {

    @Override
    public String verb() {
        return "MAIL";
    }

    private static final Logger LOG = LoggerFactory.getLogger(MailCommand.class);

    private final SessionLedger.Registry sessions;

    MailCommand(SessionLedger.Registry sessions) {
        this.sessions = sessions;
    }

    @Override
    public void execute(String commandString, Session session) throws IOException, DropConnectionException {
        if (session.getHelo().isEmpty()) {
            session.sendResponse("503 5.5.1 Error: send HELO or EHLO first");
            return;
        }
        if (session.isMailTransactionInProgress()) {
            session.sendResponse("503 5.5.1 Sender already specified");
            return;
        }
        try {
            PathArgument argument = PathArgument.parse(commandString, "MAIL", "FROM:");
            String sender = argument.path().isEmpty() ? "" : sender(argument.path());
            EsmtpParameters.Mail parameters = EsmtpParameters.mail(argument.parameters());
            session.startMailTransaction();
            try {
                MessageHandler handler = session.getMessageHandler();
                if (handler instanceof SmtpTransaction transaction) {
                    transaction.mailFrom(sender, parameters, sessions.of(session));
                } else {
                    handler.from(sender);
                }
            } catch (RejectException | RuntimeException e) {
                session.resetMailTransaction();
                throw e;
            }
            if (parameters.size() > 0) {
                session.setDeclaredMessageSize((int) Math.min(Integer.MAX_VALUE, parameters.size()));
            }
            session.sendResponse("250 2.1.0 Ok");
        } catch (RejectException e) {
            if (e.getCode() == 421) {
                // 421 closes the transmission channel (RFC 5321 section 3.8): say it, then close
                LOG.info("closing the connection of {}: {}", SessionLog.client(session), e.getErrorResponse());
                throw new DropConnectionException(421, e.getErrorResponse().substring(4));
            }
            session.sendResponse(e.getErrorResponse());
        }
    }

    private static String sender(String path) throws RejectException {
        try {
            return MailboxAddress.parse(path).address();
        } catch (MailboxAddress.Invalid e) {
            throw SmtpReply.of(501, "5.1.7 Bad sender address syntax: " + e.getMessage()).reject();
        }
    }
}
