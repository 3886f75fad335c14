package io.mailroot.deliverer.smtp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * RFC 3207 STARTTLS. For opportunistic TLS the certificate is not checked (an MX name says nothing about which
 * certificate to expect), so this protects against listening, not against an active attacker; with {@code verify}
 * (a relay whose settings need TLS and verify certificates) the context checks the chain and the host name is
 * checked against the relay's configured name.
 */
final class StartTls {

    private StartTls() {
    }

    /**
     * Moves the connection onto TLS; returns the server's refusal (the connection stays in clear), or null once the
     * handshake is done. A failed handshake throws. What EHLO said before no longer holds (RFC 3207 4.2).
     */
    static SmtpReply upgrade(SmtpConnection c, SSLContext context, InetSocketAddress address, boolean verify)
            throws IOException {
        SmtpReply reply = c.command("STARTTLS");
        if (reply.code() != 220) {
            return reply;
        }
        // A verified relay is checked against the name it is configured by (and that name is sent as SNI).
        SSLSocket ssl = (SSLSocket) context.getSocketFactory()
                .createSocket(c.socket(), verify ? c.host() : address.getHostString(), address.getPort(), true);
        c.use(ssl);
        ssl.setUseClientMode(true);
        ssl.setEnabledProtocols(Arrays.stream(ssl.getSupportedProtocols())
                .filter(p -> p.equals("TLSv1.3") || p.equals("TLSv1.2")).toArray(String[]::new));
        if (verify) {
            SSLParameters params = ssl.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            ssl.setSSLParameters(params);
        }
        ssl.startHandshake();
        return null;
    }
}
