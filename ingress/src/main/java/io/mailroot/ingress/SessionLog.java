package io.mailroot.ingress;

import io.mailroot.core.text.ClientText;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import org.subethamail.smtp.MessageContext;

/**
 * How an SMTP session is named in a log line: the client's address and what it called itself. Everything the client
 * chose (its HELO or EHLO name, and whatever else a log line may quote) goes through {@link ClientText#forLog}, so a CR, LF or
 * escape sequence in it cannot forge or colour log lines.
 */
final class SessionLog {

    private SessionLog() {
    }

    /** E.g. {@code 192.0.2.1 (helo client.example)}, or {@code 192.0.2.1} before any greeting. */
    static String client(InetAddress address, Optional<String> helo) {
        return address.getHostAddress() + helo.map(h -> " (helo " + ClientText.forLog(h) + ")").orElse("");
    }

    static String client(MessageContext session) {
        return client(((InetSocketAddress) session.getRemoteAddress()).getAddress(), session.getHelo());
    }
}
