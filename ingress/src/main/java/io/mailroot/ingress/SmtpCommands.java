package io.mailroot.ingress;

import java.io.IOException;
import java.util.List;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.internal.server.Command;
import org.subethamail.smtp.internal.server.CommandHandler;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;

/**
 * The SubEthaSMTP 7.2 commands Mailroot replaces. This is the one place that installs commands into SubEthaSMTP's
 * internal package; policy talks to it only through {@link SmtpTransaction}. Why each is replaced:
 * <ul>
 * <li>MAIL ({@link MailCommand}) and RCPT ({@link RcptCommand}): strict paths and ESMTP parameters.</li>
 * <li>DATA ({@link DataCommand}): ends only at CRLF.CRLF, refuses bare CR/LF, and limits size without buffering.</li>
 * <li>BDAT: not advertised, so refused rather than half-supported.</li>
 * <li>RSET, NOOP, QUIT, VRFY, EXPN, HELP: the stock replies lack enhanced status codes (RFC 2034); the stock HELP
 * also lists every command SubEthaSMTP knows, offered or not.</li>
 * </ul>
 * Every command present, the stock ones that stay included, is then wrapped in {@link CommandLineLimit}; commands
 * added after {@link #install} (EHLO, STARTTLS, AUTH) are not, so call it last. The replies SubEthaSMTP makes
 * outside any command (an unknown verb, an unreadable line) get their enhanced codes from
 * {@link io.mailroot.ingress.connection.StockReplies} on the way out.
 */
final class SmtpCommands {

    private SmtpCommands() {
    }

    static void install(SMTPServer server) {
        CommandHandler commands = server.getCommandHandler();
        SessionLedger.Registry sessions = new SessionLedger.Registry();
        commands.addCommand(new MailCommand(sessions));
        commands.addCommand(new RcptCommand());
        commands.addCommand(new DataCommand(sessions));
        commands.addCommand(new FixedReply("BDAT", "502 5.5.1 BDAT not implemented", false));
        commands.addCommand(new Reset());
        commands.addCommand(new FixedReply("NOOP", "250 2.0.0 Ok", false));
        commands.addCommand(new FixedReply("QUIT", "221 2.0.0 Bye", true));
        commands.addCommand(new FixedReply("VRFY", "502 5.5.1 VRFY command is disabled", false));
        commands.addCommand(new FixedReply("EXPN", "502 5.5.1 EXPN command is disabled", false));
        commands.addCommand(new FixedReply("HELP", "214 2.0.0 See RFC 5321", false));
        for (String verb : List.copyOf(commands.getVerbs())) {
            Command command = commands.getCommand(verb);
            if (!(command instanceof CommandLineLimit)) {
                commands.addCommand(new CommandLineLimit(command, sessions));
            }
        }
    }

    /** A command whose only job is its reply. */
    static final class FixedReply extends BaseCommand {

        private final String reply;
        private final boolean quit;

        FixedReply(String verb, String reply, boolean quit) {
            super(verb, verb + ".");
            this.reply = reply;
            this.quit = quit;
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            session.sendResponse(reply);
            if (quit) {
                session.quit();
            }
        }
    }

    static final class Reset extends BaseCommand {

        Reset() {
            super("RSET", "Resets the system.");
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            session.resetMailTransaction();
            session.sendResponse("250 2.0.0 Ok");
        }
    }
}
