package io.mailroot.ingress.auth;

import io.mailroot.core.text.ClientText;
import io.mailroot.ingress.IngressMetrics;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.AuthenticationHandler;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.internal.server.BaseCommand;
import org.subethamail.smtp.server.Session;

/**
 * AUTH PLAIN and LOGIN (RFC 4954, 4616) against the users file, with the replies and enhanced codes of RFC 4954
 * and RFC 3463 (SubEthaSMTP's own command answers without them), a refusal to take a password in clear text
 * unless the virtual server allows it, a brake on guessing ({@link AuthFailures}) and a bound on the password
 * hashes running at once ({@link HashSlots}, shared by the virtual servers through the users). A successful session
 * carries the user as its {@link AuthenticationHandler} identity, which the transaction layer reads.
 */
public final class AuthCommand extends BaseCommand {

    private static final Logger LOG = LoggerFactory.getLogger(AuthCommand.class);
    private static final String USERNAME_CHALLENGE = "334 " + b64("Username:");
    private static final String PASSWORD_CHALLENGE = "334 " + b64("Password:");

    /**
     * @param enabled IIS "Basic authentication"; off answers 502
     * @param allowWithoutTls whether a password may travel before STARTTLS
     * @param defaultDomain appended to a user name without {@code @}; null for none
     */
    public record Settings(boolean enabled, boolean allowWithoutTls, String defaultDomain) {
    }

    /** The identity of an authenticated session: the user name as found in the users file. */
    public record AuthenticatedUser(String user) implements AuthenticationHandler {
        @Override
        public Optional<String> auth(String clientInput, MessageContext context) {
            return Optional.empty();
        }

        @Override
        public Object getIdentity() {
            return user;
        }
    }

    private final Settings settings;
    private final UserDirectory users;
    private final AuthFailures failures;

    public AuthCommand(Settings settings, UserDirectory users, AuthFailures failures) {
        super("AUTH", "Authenticate (RFC 4954).", "PLAIN|LOGIN [initial-response]");
        this.settings = settings;
        this.users = users;
        this.failures = failures;
    }

    /** Whether EHLO should offer AUTH on this session. */
    public boolean offered(Session session) {
        return settings.enabled() && (session.isTLSStarted() || settings.allowWithoutTls()) && !session.isAuthenticated();
    }

    @Override
    public void execute(String commandString, Session session) throws IOException {
        String[] args = commandString.trim().split(" +");
        if (!settings.enabled()) {
            session.sendResponse("502 5.5.1 AUTH not available");
            return;
        }
        if (args.length < 2 || args.length > 3) {
            session.sendResponse("501 5.5.4 Syntax: AUTH mechanism [initial-response]");
            return;
        }
        if (session.isAuthenticated()) {
            session.sendResponse("503 5.5.1 Already authenticated");
            return;
        }
        if (session.isMailTransactionInProgress()) {
            session.sendResponse("503 5.5.1 AUTH not permitted during a mail transaction");
            return;
        }
        if (!session.isTLSStarted() && !settings.allowWithoutTls()) {
            session.sendResponse("538 5.7.11 Encryption required for requested authentication mechanism");
            return;
        }
        InetAddress client = session.getRemoteAddress().getAddress();
        if (failures.lockedOut(client)) {
            IngressMetrics.refused("auth", "454 4.7.0");
            session.sendResponse("454 4.7.0 Too many authentication failures, try again later");
            return;
        }
        String mechanism = args[1].toUpperCase(Locale.ROOT);
        Optional<String> initial = args.length == 3 ? Optional.of(args[2]) : Optional.empty();
        Credentials credentials;
        try {
            credentials = switch (mechanism) {
                case "PLAIN" -> plain(session, initial);
                case "LOGIN" -> login(session, initial);
                default -> throw new Refusal("504 5.5.4 Unrecognized authentication type");
            };
        } catch (Refusal r) {
            if (r.reply != null) {
                session.sendResponse(r.reply);
            }
            return;
        }
        Optional<String> user;
        try {
            AuthFailures.Admission admission = failures.admit(client);
            if (admission != AuthFailures.Admission.ADMITTED) {
                session.sendResponse(admission == AuthFailures.Admission.LOCKED_OUT
                        ? "454 4.7.0 Too many authentication failures, try again later"
                        : "454 4.7.0 Temporary authentication failure");
                return;
            }
            try {
                user = users.hashing().run(() -> verify(credentials));
            } catch (HashSlots.Busy busy) {
                failures.notChecked(client);
                LOG.info("AUTH {} from {} not checked: every password hash slot is busy", mechanism, client.getHostAddress());
                session.sendResponse("454 4.7.0 Temporary authentication failure");
                return;
            } catch (RuntimeException e) {
                failures.notChecked(client);
                throw e;
            }
        } finally {
            Arrays.fill(credentials.password(), '\0');
        }
        if (user.isPresent()) {
            failures.succeeded(client);
            session.setAuthenticationHandler(new AuthenticatedUser(user.get()));
            session.sendResponse("235 2.7.0 Authentication successful");
            return;
        }
        Duration delay = failures.failed(client);
        LOG.info("AUTH {} failed for '{}' from {}", mechanism, ClientText.forLog(credentials.user()), client.getHostAddress());
        pause(delay);
        IngressMetrics.refused("auth", "535 5.7.8");
        session.sendResponse("535 5.7.8 Authentication credentials invalid");
    }

    /** The user as stored, trying the name with the default domain first and then as typed. */
    private Optional<String> verify(Credentials c) {
        String name = c.user();
        if (name.isEmpty()) {
            return Optional.empty();
        }
        if (!name.contains("@") && settings.defaultDomain() != null) {
            String qualified = name + "@" + settings.defaultDomain();
            if (users.contains(qualified) || !users.contains(name)) {
                return users.verify(qualified, c.password()) ? Optional.of(qualified.toLowerCase(Locale.ROOT)) : Optional.empty();
            }
        }
        return users.verify(name, c.password()) ? Optional.of(name.toLowerCase(Locale.ROOT)) : Optional.empty();
    }

    private record Credentials(String user, char[] password) {
    }

    /** Ends the exchange with a reply, or (null) silently when the client has gone. */
    private static final class Refusal extends Exception {
        final String reply;

        Refusal(String reply) {
            super(reply, null, false, false);
            this.reply = reply;
        }
    }

    /** RFC 4616: [authzid] NUL authcid NUL passwd; an authzid other than the user is refused. */
    private static Credentials plain(Session session, Optional<String> initial) throws IOException, Refusal {
        String response = initial.isPresent() ? initial.get() : challenge(session, "334 ");
        if (response.equals("=")) {
            response = "";
        }
        char[] text = decode(response);
        int first = indexOf(text, 0);
        int second = first < 0 ? -1 : indexOf(text, first + 1);
        if (second < 0 || indexOf(text, second + 1) >= 0) {
            Arrays.fill(text, '\0');
            throw new Refusal("501 5.5.2 Invalid PLAIN response");
        }
        String authzid = new String(text, 0, first);
        String authcid = new String(text, first + 1, second - first - 1);
        char[] password = Arrays.copyOfRange(text, second + 1, text.length);
        Arrays.fill(text, '\0');
        if (!authzid.isEmpty() && !authzid.equalsIgnoreCase(authcid)) {
            Arrays.fill(password, '\0');
            // Acting for another user would need an authorisation rule Mailroot does not have.
            throw new Refusal("535 5.7.8 Authentication credentials invalid");
        }
        return new Credentials(authcid, password);
    }

    private static Credentials login(Session session, Optional<String> initial) throws IOException, Refusal {
        String user = new String(decode(initial.isPresent() ? initial.get() : challenge(session, USERNAME_CHALLENGE)));
        char[] password = decode(challenge(session, PASSWORD_CHALLENGE));
        return new Credentials(user, password);
    }

    private static String challenge(Session session, String challenge) throws IOException, Refusal {
        session.sendResponse(challenge);
        String line = session.getReader().readLine();
        if (line == null) {
            throw new Refusal(null);
        }
        if (line.trim().equals("*")) {
            throw new Refusal("501 5.0.0 Authentication cancelled");
        }
        return line.trim();
    }

    private static char[] decode(String base64) throws Refusal {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new Refusal("501 5.5.2 Invalid base64 data");
        }
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            char[] out = new char[chars.remaining()];
            chars.get(out);
            Arrays.fill(chars.array(), '\0');
            return out;
        } catch (CharacterCodingException e) {
            throw new Refusal("501 5.5.2 Invalid UTF-8 in credentials");
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    private static int indexOf(char[] text, int from) {
        for (int i = from; i < text.length; i++) {
            if (text[i] == '\0') {
                return i;
            }
        }
        return -1;
    }

    private static void pause(Duration delay) {
        if (delay.isZero()) {
            return;
        }
        try {
            Thread.sleep(delay.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.US_ASCII));
    }
}
