package io.mailroot.ingress.log;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Microsoft IIS Log File Format: fixed ASCII fields, each followed by a comma and a space, in local time: client IP,
 * user name, date, time, service, server name, server IP, time taken, bytes received, bytes sent, status, Windows
 * status, operation, target, parameters. No header.
 */
final class IisFormat implements LogFileFormat {

    private final DateTimeFormatter date;
    private final DateTimeFormatter time;

    IisFormat(ZoneId local) {
        date = DateTimeFormatter.ofPattern("MM/dd/yy").withZone(local);
        time = DateTimeFormatter.ofPattern("H:mm:ss").withZone(local);
    }

    @Override
    public String prefix() {
        return "in";
    }

    @Override
    public String sizePrefix() {
        return "inetsv";
    }

    @Override
    public List<String> header(Instant now) {
        return List.of();
    }

    @Override
    public String line(LogEntry e) {
        StringBuilder b = new StringBuilder(160);
        for (String field : new String[] {v(e.clientIp()), v(e.username()), date.format(e.time()), time.format(e.time()),
                v(e.service()), v(e.computer()), v(e.serverIp()), Long.toString(e.timeTakenMs()),
                Long.toString(e.bytesReceived()), Long.toString(e.bytesSent()), Integer.toString(e.status()), "0",
                v(e.method()), "-", v(e.parameters())}) {
            b.append(field).append(", ");
        }
        return b.toString();
    }

    private static String v(String value) {
        return LogValue.of(value, ",");
    }
}
