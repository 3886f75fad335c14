package io.mailroot.deliverer.smtp;

import static io.mailroot.deliverer.TestServerData.withoutTracing;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.server.SMTPServer;

/** Opportunistic STARTTLS against a real SubEthaSMTP server that offers it, with a throw-away certificate. */
class StartTlsTest {

    @TempDir
    Path dir;

    private SMTPServer server;
    private final List<byte[]> received = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        Path keystore = dir.resolve("mx.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "mx", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=mx.test", "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass", "secret", "-keypass", "secret")
                .redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, keytool.waitFor(), out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, "secret".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "secret".toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        server = SMTPServer.port(0)
                .bindAddress(InetAddress.getLoopbackAddress())
                .hostName("mx.test")
                .enableTLS()
                .startTlsSocketFactory(context)
                .messageHandlerFactory(this::handler)
                .build();
        server.start();
    }

    private MessageHandler handler(MessageContext context) {
        return new MessageHandler() {
            @Override
            public void from(String from) {
            }

            @Override
            public void recipient(String recipient) {
            }

            @Override
            public String data(InputStream data) throws java.io.IOException {
                received.add(data.readAllBytes());
                return null;
            }

            @Override
            public void done() {
            }
        };
    }

    @AfterEach
    void stop() {
        server.stop();
    }

    @Test
    void usesTlsWhenOfferedAndSendsTheSameBytes() throws Exception {
        byte[] message = "Subject: secret\r\n\r\n.dotted\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        Envelope env = Envelope.received("T1", "a@s.test", List.of(Recipient.of("b@r.test")), Instant.now());
        SmtpClient client = new SmtpClient("relay.test", Duration.ofSeconds(10));

        try (SmtpSession s = client.connect("mx.test", InetAddress.getLoopbackAddress(), server.getPortAllocated())) {
            assertTrue(s.tls());
            assertTrue(s.send(env, env.recipients(), message).get(0).accepted());
        }
        assertArrayEquals(message, withoutTracing(received.get(0)));
    }

    @Test
    void canBeTurnedOff() throws Exception {
        SmtpClient clear = new SmtpClient("relay.test", Duration.ofSeconds(10), false);

        try (SmtpSession s = clear.connect("mx.test", InetAddress.getLoopbackAddress(), server.getPortAllocated())) {
            assertFalse(s.tls());
            assertTrue(s.supports("STARTTLS"));
        }
    }
}
