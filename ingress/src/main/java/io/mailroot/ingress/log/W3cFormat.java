package io.mailroot.ingress.log;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.function.Function;

/**
 * W3C Extended Log File Format, as IIS wrote it for SMTP: the chosen fields separated by spaces, times in UTC, the
 * verb in {@code cs-method}, the argument in {@code cs-uri-query}, the reply code in {@code sc-status}. A file starts
 * with {@code #Software}, {@code #Version}, {@code #Date} and {@code #Fields}, written again whenever the service
 * opens it, so a restart with other fields starts a new block the line grammar follows.
 */
final class W3cFormat implements LogFileFormat {

    static final String SOFTWARE = "Mailroot SMTP";
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    private final List<String> fields;
    private final List<Function<LogEntry, String>> values;

    W3cFormat(List<String> fields) {
        this.fields = List.copyOf(fields);
        this.values = fields.stream().map(W3cFormat::field).toList();
    }

    private static Function<LogEntry, String> field(String name) {
        return switch (name) {
            case "date" -> e -> DATE.format(e.time());
            case "time" -> e -> TIME.format(e.time());
            case "c-ip" -> e -> v(e.clientIp());
            case "cs-username" -> e -> v(e.username());
            case "s-sitename" -> e -> v(e.service());
            case "s-computername" -> e -> v(e.computer());
            case "s-ip" -> e -> v(e.serverIp());
            case "s-port" -> e -> Integer.toString(e.serverPort());
            case "cs-method" -> e -> v(e.method());
            case "cs-uri-query" -> e -> v(e.parameters());
            case "sc-status" -> e -> Integer.toString(e.status());
            case "sc-win32-status" -> e -> "0";
            case "sc-bytes" -> e -> Long.toString(e.bytesSent());
            case "cs-bytes" -> e -> Long.toString(e.bytesReceived());
            case "time-taken" -> e -> Long.toString(e.timeTakenMs());
            case "cs-version" -> e -> LogEntry.PROTOCOL;
            // HTTP's fields: IIS offered them for SMTP too and wrote "-"
            case "cs-uri-stem", "cs-host", "cs(User-Agent)", "cs(Cookie)", "cs(Referer)" -> e -> "-";
            default -> throw new IllegalArgumentException("not a W3C field: " + name);
        };
    }

    private static String v(String value) {
        return LogValue.of(value, "");
    }

    @Override
    public String prefix() {
        return "ex";
    }

    @Override
    public String sizePrefix() {
        return "extend";
    }

    @Override
    public List<String> header(Instant now) {
        return List.of("#Software: " + SOFTWARE, "#Version: 1.0", "#Date: " + STAMP.format(now),
                "#Fields: " + String.join(" ", fields));
    }

    @Override
    public String line(LogEntry e) {
        StringBuilder b = new StringBuilder(160);
        for (Function<LogEntry, String> value : values) {
            if (b.length() > 0) {
                b.append(' ');
            }
            b.append(value.apply(e));
        }
        return b.toString();
    }
}
