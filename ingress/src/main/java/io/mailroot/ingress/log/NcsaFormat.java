package io.mailroot.ingress.log;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * NCSA Common Log File Format, in local time with its offset:
 * {@code host ident authuser [dd/MMM/yyyy:HH:mm:ss +zzzz] "request" status bytes}, where the request is the verb,
 * its argument and {@code SMTP}, the user the client's HELO name, and the bytes those sent to the client. No header.
 */
final class NcsaFormat implements LogFileFormat {

    private final DateTimeFormatter stamp;

    NcsaFormat(ZoneId local) {
        stamp = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH).withZone(local);
    }

    @Override
    public String prefix() {
        return "nc";
    }

    @Override
    public String sizePrefix() {
        return "ncsa";
    }

    @Override
    public List<String> header(Instant now) {
        return List.of();
    }

    @Override
    public String line(LogEntry e) {
        String request = LogValue.of(e.method(), "\"")
                + (e.parameters() == null || e.parameters().isEmpty() ? "" : " " + LogValue.of(e.parameters(), "\""))
                + " " + LogEntry.PROTOCOL;
        return LogValue.of(e.clientIp(), "") + " - " + LogValue.of(e.username(), "\"[]") + " [" + stamp.format(e.time())
                + "] \"" + request + "\" " + e.status() + " " + e.bytesSent();
    }
}
