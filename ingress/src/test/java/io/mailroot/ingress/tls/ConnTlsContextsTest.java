package io.mailroot.ingress.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.MailrootConfig;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConnTlsContextsTest {

    @TempDir
    Path dir;

    @Test
    void aSelfSignedIdentityIsMadeOnceAndKeptPrivate() throws Exception {
        Path tls = dir.resolve("tls");
        TlsContexts.forServer(new MailrootConfig.Tls(true, null, null, null), tls, "relay.test");
        String first = Files.readString(tls.resolve("selfsigned.crt"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve("selfsigned.key"))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve("selfsigned.crt"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tls)));
        TlsContexts.forServer(new MailrootConfig.Tls(true, null, null, null), tls, "relay.test");
        assertEquals(first, Files.readString(tls.resolve("selfsigned.crt")), "kept across starts");
    }

    @Test
    void operatorPemFilesAreUsedAndOnlyTls12And13AreEnabled() throws Exception {
        TlsContexts.writeSelfSigned(dir.resolve("op.crt"), dir.resolve("op.key"), "mx.example.com");
        SSLContext ctx = TlsContexts.forServer(
                new MailrootConfig.Tls(true, dir.resolve("op.crt"), dir.resolve("op.key"), null), dir.resolve("unused"), "x");
        assertTrue(Files.notExists(dir.resolve("unused")));
        try (ServerSocket ss = new ServerSocket(0); Socket client = new Socket("127.0.0.1", ss.getLocalPort());
             Socket accepted = ss.accept()) {
            SSLSocket s = TlsContexts.serverSocket(ctx, accepted);
            assertArrayEquals(new String[] {"TLSv1.3", "TLSv1.2"}, s.getEnabledProtocols());
            assertTrue(!s.getUseClientMode());
            client.close();
        }
    }
}
