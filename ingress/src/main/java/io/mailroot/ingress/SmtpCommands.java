package io.mailroot.ingress;

import io.mailroot.ingress.tls.StartTlsCommand;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringTokenizer;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.internal.server.Command;
import org.subethamail.smtp.internal.server.CommandHandler;
import org.subethamail.smtp.server.SMTPServer;
import org.subethamail.smtp.server.Session;

/**
 * The command table of a listener, the one place (with {@link CommandLineLimit}) that touches SubEthaSMTP's internal
 * package: every command of ours is an {@link SmtpVerb}, written against its public API. Policy talks to the
 * commands only through {@link SmtpTransaction}. Every verb is answered by a command of ours:
 * <ul>
 * <li>MAIL ({@link MailCommand}) and RCPT ({@link RcptCommand}): strict paths and ESMTP parameters.</li>
 * <li>DATA ({@link DataCommand}): ends only at CRLF.CRLF, refuses bare CR/LF, and limits size without buffering.</li>
 * <li>EHLO ({@link EhloCommand}) lists exactly what we honour; HELO, RSET, NOOP, QUIT, VRFY, EXPN, HELP answer with
 * enhanced status codes (RFC 2034), which the stock ones lack; BDAT is not advertised, so refused rather than
 * half-supported.</li>
 * <li>Any other verb SubEthaSMTP registers itself (a later version may add some) is replaced by
 * {@code 502 5.5.1}, so a library upgrade cannot start answering for us. The one exception is a stock AUTH on a
 * listener built with an authentication handler factory of its own (tests do that).</li>
 * </ul>
 * Every command is wrapped in {@link CommandLineLimit}. Lines no command would take (unknown verbs, unreadable or
 * overlong lines) never reach SubEthaSMTP's command handler: the connection's
 * {@link io.mailroot.ingress.connection.CommandInput} answers them, asking {@link #dispatchable} which lines a
 * command would take.
 */
final class SmtpCommands {

    private SmtpCommands() {
    }

    /** The commands of a listener without TLS or AUTH (a stock AUTH stays if the server was given a factory). */
    static void install(SMTPServer server) {
        install(server, null);
    }

    /**
     * @param auth the listener's AUTH, still written against SubEthaSMTP's command interface; null for none
     * @param own the listener's EHLO and STARTTLS, in place of the defaults
     */
    static void install(SMTPServer server, Command auth, SmtpVerb... own) {
        CommandHandler commands = server.getCommandHandler();
        SessionLedger.Registry sessions = new SessionLedger.Registry();
        List<SmtpVerb> verbs = new ArrayList<>(List.of(new EhloCommand(), new StartTlsCommand(null), new Helo(),
                new MailCommand(sessions), new RcptCommand(), new DataCommand(sessions),
                new FixedReply("BDAT", "502 5.5.1 BDAT not implemented", false), new Reset(),
                new FixedReply("NOOP", "250 2.0.0 Ok", false), new FixedReply("QUIT", "221 2.0.0 Bye", true),
                new FixedReply("VRFY", "502 5.5.1 VRFY command is disabled", false),
                new FixedReply("EXPN", "502 5.5.1 EXPN command is disabled", false),
                new FixedReply("HELP", "214 2.0.0 See RFC 5321", false)));
        verbs.addAll(List.of(own));
        if (auth != null) {
            verbs.add(adapted(auth));
        }
        boolean stockAuth = auth == null && server.getAuthenticationHandlerFactory().isPresent();
        for (String verb : List.copyOf(commands.getVerbs())) {
            if (stockAuth && verb.equals("AUTH")) {
                verbs.add(adapted(commands.getCommand(verb)));
            } else if (verbs.stream().noneMatch(v -> v.verb().equals(verb))) {
                // a verb SubEthaSMTP registers that we have no command for
                verbs.add(new FixedReply(verb, "502 5.5.1 Command not implemented", false));
            }
        }
        for (SmtpVerb verb : verbs) {
            commands.addCommand(new CommandLineLimit(verb, sessions));
        }
    }

    /** A command written against SubEthaSMTP's interface (AUTH for now), as one of ours. */
    private static SmtpVerb adapted(Command command) {
        return new SmtpVerb() {
            @Override
            public String verb() {
                return command.getName();
            }

            @Override
            public void execute(String commandLine, Session session) throws IOException, DropConnectionException {
                command.execute(commandLine, session);
            }

            @Override
            public String toString() {
                return command.getClass().getName();
            }
        };
    }

    /**
     * Whether SubEthaSMTP's command handler finds a command for {@code line}, as it looks one up: by the first four
     * characters, else by the first word, upper-cased.
     */
    static boolean dispatchable(SMTPServer server, String line) {
        if (server == null || line.length() < 4) {
            return false;
        }
        CommandHandler commands = server.getCommandHandler();
        if (commands.containsCommand(line.substring(0, 4).toUpperCase(Locale.ENGLISH))) {
            return true;
        }
        StringTokenizer words = new StringTokenizer(line);
        return words.hasMoreTokens() && commands.containsCommand(words.nextToken().toUpperCase(Locale.ENGLISH));
    }

    /** HELO (RFC 5321 section 4.1.1.1): plain SMTP, no extensions. */
    static final class Helo implements SmtpVerb {

        @Override
        public String verb() {
            return "HELO";
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            String[] args = SmtpVerb.words(commandString);
            if (args.length < 2) {
                session.sendResponse("501 5.5.4 Syntax: HELO hostname");
                return;
            }
            session.resetMailTransaction();
            session.setHelo(args[1]);
            session.sendResponse("250 " + session.getServer().getHostName());
        }
    }

    /** A command whose only job is its reply. */
    static final class FixedReply implements SmtpVerb {

        private final String verb;
        private final String reply;
        private final boolean quit;

        FixedReply(String verb, String reply, boolean quit) {
            this.verb = verb;
            this.reply = reply;
            this.quit = quit;
        }

        @Override
        public String verb() {
            return verb;
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            session.sendResponse(reply);
            if (quit) {
                session.quit();
            }
        }
    }

    static final class Reset implements SmtpVerb {

        @Override
        public String verb() {
            return "RSET";
        }

        @Override
        public void execute(String commandString, Session session) throws IOException {
            session.resetMailTransaction();
            session.sendResponse("250 2.0.0 Ok");
        }
    }
}
