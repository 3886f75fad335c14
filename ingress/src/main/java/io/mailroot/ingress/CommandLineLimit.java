package io.mailroot.ingress;

import io.mailroot.ingress.connection.CommandInput;
import io.mailroot.ingress.connection.SessionSocket;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.DropConnectionException;
import org.subethamail.smtp.internal.server.Command;
import org.subethamail.smtp.internal.server.CommandException;
import org.subethamail.smtp.internal.server.HelpMessage;
import org.subethamail.smtp.server.Session;

/**
 * Wraps every command. While it runs, the lines the connection reads are its continuation lines (an AUTH
 * response), not commands ({@link CommandInput} frames them accordingly). It also notes whether the client greeted
 * with HELO or EHLO, which the Received header reports, and turns a bug in a command into our own
 * {@code 421 4.3.0} rather than SubEthaSMTP's.
 *
 * <p>Once the connection has had {@link io.mailroot.ingress.connection.TrackedSocket#MAX_ERRORS} (it was told
 * {@code 421 4.7.0} and closed), no command runs any more.
 */
final class CommandLineLimit implements Command {

    private static final Logger LOG = LoggerFactory.getLogger(CommandLineLimit.class);

    private final SmtpVerb wrapped;
    private final SessionLedger.Registry sessions;

    CommandLineLimit(SmtpVerb wrapped, SessionLedger.Registry sessions) {
        this.wrapped = wrapped;
        this.sessions = sessions;
    }

    @Override
    public void execute(String commandString, Session session) throws IOException, DropConnectionException {
        Optional<SessionSocket> socket = SessionSocket.of(session.getSocket());
        if (socket.isPresent() && socket.get().connection().tooManyErrors()) {
            throw new DropConnectionException(421, "4.7.0 Too many errors, closing connection");
        }
        socket.flatMap(SessionSocket::input).ifPresent(CommandInput::commandStarted);
        try {
            wrapped.execute(commandString, session);
        } catch (RuntimeException e) {
            LOG.error("{} from {} failed", getName(), SessionLog.client(session), e);
            throw new DropConnectionException(421, "4.3.0 Local error, closing connection");
        } finally {
            // after STARTTLS the session reads through a new input
            SessionSocket.of(session.getSocket()).flatMap(SessionSocket::input).ifPresent(CommandInput::commandEnded);
        }
        String verb = getName();
        if (("EHLO".equals(verb) || "HELO".equals(verb)) && session.getHelo().isPresent()) {
            sessions.of(session).extended = "EHLO".equals(verb);
        }
    }

    /** The command it runs. */
    SmtpVerb wrapped() {
        return wrapped;
    }

    @Override
    public HelpMessage getHelp() throws CommandException {
        return new HelpMessage(wrapped.verb(), "See RFC 5321.");
    }

    @Override
    public String getName() {
        return wrapped.verb();
    }
}
