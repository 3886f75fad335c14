package io.mailroot.ingress;

import io.mailroot.ingress.connection.CommandInput;
import io.mailroot.ingress.connection.SessionSocket;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.Session;

/**
 * DATA, read by {@link DataReader} straight from the connection. The stock command ends a message at a bare
 * LF.LF (the SMTP smuggling hole), neither reads the rest of a refused message (so its lines would run as
 * commands) nor ends the transaction after a refusal (so the next MAIL gets 503).
 */
final class DataCommand implements SmtpVerb {

    @Override
    public String verb() {
        return "DATA";
    }

    private static final Logger LOG = LoggerFactory.getLogger(DataCommand.class);

    private final SessionLedger.Registry sessions;

    DataCommand(SessionLedger.Registry sessions) {
        this.sessions = sessions;
    }

    @Override
    public void execute(String commandString, Session session) throws IOException, DropConnectionException {
        if (!commandString.strip().equalsIgnoreCase("DATA")) {
            session.sendResponse("501 5.5.4 Syntax: DATA (no parameters)");
            return;
        }
        if (!session.isMailTransactionInProgress()) {
            session.sendResponse("503 5.5.1 Error: need MAIL command");
            return;
        }
        if (session.getRecipientCount() == 0) {
            session.sendResponse("503 5.5.1 Error: need RCPT command");
            return;
        }
        try {
            MessageHandler handler = session.getMessageHandler();
            SmtpTransaction transaction = handler instanceof SmtpTransaction t ? t : null;
            int limit = transaction != null ? transaction.maxMessageBytes()
                    : session.getServer().getMaxMessageSize() > 0 ? session.getServer().getMaxMessageSize() : Integer.MAX_VALUE - 16;
            SessionSocket.of(session.getSocket()).flatMap(SessionSocket::input).ifPresent(CommandInput::dataFollows);
            session.sendResponse("354 End data with <CR><LF>.<CR><LF>");
            DataReader.Body body;
            try {
                body = DataReader.read(session.getRawInput(), limit);
            } catch (EOFException e) {
                // the client went away (or was cut off) in the middle: nobody is left to answer
                session.quit();
                return;
            }
            session.sendResponse(reply(handler, transaction, body, sessions.of(session), session));
        } finally {
            session.resetMailTransaction();
        }
    }

    private static String reply(MessageHandler handler, SmtpTransaction transaction, DataReader.Body body,
                                SessionLedger client, Session session) {
        try {
            if (transaction != null) {
                return transaction.receive(body, client).toString();
            }
            if (body.truncated() || body.bareLineEnd() || body.longLine()) {
                return "554 5.6.0 Message refused";
            }
            String text = handler.data(new ByteArrayInputStream(body.bytes()));
            return text == null ? "250 2.0.0 Ok" : "250 " + text;
        } catch (RejectException e) {
            return e.getErrorResponse();
        } catch (IOException | RuntimeException e) {
            // A bug must not cost the message: a 4xx makes the client keep it and try again.
            LOG.error("unexpected failure receiving a message from {}", SessionLog.client(session), e);
            return "451 4.3.0 Local error in processing";
        }
    }
}
