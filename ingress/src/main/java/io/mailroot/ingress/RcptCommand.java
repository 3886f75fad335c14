package io.mailroot.ingress;

import java.io.IOException;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.Session;

/**
 * RCPT TO, with the forward path read by {@link MailboxAddress}: the recipient policies (relay above all) judge the
 * domain the message would really go to, whatever tricks the path was written with. {@code <postmaster>} without a
 * domain is this server's postmaster (RFC 5321 section 4.5.1).
 */
final class RcptCommand implements SmtpVerb {

    @Override
    public String verb() {
        return "RCPT";
    }

    RcptCommand() {
    }

    @Override
    public void execute(String commandString, Session session) throws IOException, DropConnectionException {
        if (!session.isMailTransactionInProgress()) {
            session.sendResponse("503 5.5.1 Error: need MAIL command");
            return;
        }
        try {
            PathArgument argument = PathArgument.parse(commandString, "RCPT", "TO:");
            boolean postmaster = MailboxAddress.isDomainlessPostmaster(argument.path());
            MailboxAddress recipient = postmaster ? null : recipient(argument.path());
            EsmtpParameters.Rcpt parameters = EsmtpParameters.rcpt(argument.parameters());
            MessageHandler handler = session.getMessageHandler();
            String address;
            if (handler instanceof SmtpTransaction transaction) {
                address = postmaster ? transaction.rcptToPostmaster(parameters) : transaction.rcptTo(recipient, parameters);
            } else {
                address = postmaster ? argument.path() : recipient.address();
                handler.recipient(address);
            }
            session.addRecipient(address);
            session.sendResponse("250 2.1.5 Ok");
        } catch (RejectException e) {
            session.sendResponse(e.getErrorResponse());
        }
    }

    private static MailboxAddress recipient(String path) throws RejectException {
        try {
            return MailboxAddress.parse(path);
        } catch (MailboxAddress.Invalid e) {
            throw SmtpReply.of(501, "5.1.3 Bad recipient address syntax: " + e.getMessage()).reject();
        }
    }
}
