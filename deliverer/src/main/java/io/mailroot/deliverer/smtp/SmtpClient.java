package io.mailroot.deliverer.smtp;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

/** Opens ESMTP sessions to next hops, with our EHLO name and time-outs. */
public final class SmtpClient {

    /** A black-holed address should not hold a connection slot for the whole (IIS-long) read time-out. */
    private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofMinutes(1);

    private final String heloName;
    private final Duration readTimeout;

    public SmtpClient(String heloName, Duration readTimeout) {
        this.heloName = heloName;
        this.readTimeout = readTimeout;
    }

    /**
     * Connects, reads the greeting and introduces us. A refusal (non-2xx greeting or EHLO and HELO both refused)
     * is a {@link SmtpRefusedException}; the caller may try the next host.
     */
    public SmtpSession connect(String hostName, InetAddress address, int port) throws IOException {
        Duration connectTimeout = readTimeout.compareTo(MAX_CONNECT_TIMEOUT) < 0 ? readTimeout : MAX_CONNECT_TIMEOUT;
        return SmtpSession.open(hostName, new InetSocketAddress(address, port), heloName,
                (int) connectTimeout.toMillis(), (int) Math.min(Integer.MAX_VALUE, readTimeout.toMillis()));
    }
}
