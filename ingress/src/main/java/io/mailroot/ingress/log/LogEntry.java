package io.mailroot.ingress.log;

import java.time.Instant;

/**
 * One line of the protocol log: a command and its reply, or a reply of the connection's own (the greeting, a
 * closing 421), with the fields IIS 6's SMTP service logged. What the client chose (its HELO name, a command's
 * argument) is kept as it came; each format escapes it its own way.
 *
 * @param time when the reply went out
 * @param username the name the client gave in HELO or EHLO, as IIS logged it, or null before any
 * @param service the virtual server as IIS named it, {@code SMTPSVC1} for the first
 * @param computer this node's id ({@code nodeId})
 * @param method the command verb, upper case ({@code CONNECT} for the greeting, {@code CLOSE} for a reply the
 *     server sent unasked before closing)
 * @param parameters the command's argument (for AUTH only the mechanism, for DATA the queue id), or null
 * @param status the reply code; 0 when no reply came
 * @param bytesSent reply octets
 * @param bytesReceived command and message octets
 * @param timeTakenMs from the command line's last octet to the reply's
 */
public record LogEntry(Instant time, String clientIp, String username, String service, String computer,
                       String serverIp, int serverPort, String method, String parameters, int status, long bytesSent,
                       long bytesReceived, long timeTakenMs) {

    /** IIS wrote this in cs-version for every SMTP entry. */
    public static final String PROTOCOL = "SMTP";
}
