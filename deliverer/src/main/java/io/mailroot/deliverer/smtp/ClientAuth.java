package io.mailroot.deliverer.smtp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Set;

/** RFC 4954 AUTH as a client: PLAIN when offered (one round trip), else LOGIN. */
final class ClientAuth {

    private ClientAuth() {
    }

    /**
     * Authenticates with the credentials of {@code security}; a failure or a server without PLAIN or LOGIN ends the
     * connection politely and is a {@link SmtpSecurityException} naming {@code relay}.
     */
    static void authenticate(SmtpConnection c, Set<String> mechanisms, SmtpSession.Security security, String relay)
            throws IOException {
        String user = security.username();
        String password = security.password() == null ? "" : security.password();
        SmtpReply reply;
        if (mechanisms.contains("PLAIN")) {
            String token = base64("\0" + user + "\0" + password);
            reply = c.command("AUTH PLAIN " + token);
            if (reply.code() == 334) {
                reply = c.command(token);
            }
        } else if (mechanisms.contains("LOGIN")) {
            reply = c.command("AUTH LOGIN");
            if (reply.code() == 334) {
                reply = c.command(base64(user));
            }
            if (reply.code() == 334) {
                reply = c.command(base64(password));
            }
        } else {
            c.sayGoodbye();
            throw new SmtpSecurityException("4.7.0", relay + " offers " + (mechanisms.isEmpty()
                    ? "no AUTH" : "only AUTH " + String.join(" ", mechanisms.stream().sorted().toList()))
                    + " but credentials are configured for it (we speak PLAIN and LOGIN)");
        }
        if (reply.code() != 235) {
            if (reply.code() == 334) {
                // Abandon the exchange (RFC 4954 4) before saying goodbye.
                c.command("*");
            }
            c.sayGoodbye();
            String status = reply.status();
            throw new SmtpSecurityException("4" + status.substring(1), "authentication as " + user + " at "
                    + relay + " failed: " + reply.text());
        }
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
