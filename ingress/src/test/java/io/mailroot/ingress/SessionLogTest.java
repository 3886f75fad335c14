package io.mailroot.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a client chose never reaches a log line raw: no CR or LF to forge a line, no escape sequence. */
class SessionLogTest {

    @Test
    void heloNamesAreEscaped() throws Exception {
        InetAddress client = InetAddress.getByName("192.0.2.1");
        String forged = "client.test\r\n12:00:00.000 INFO  [main] IngressRole - all is well\u001b[2J";
        String line = SessionLog.client(client, Optional.of(forged));
        assertFalse(line.contains("\r") || line.contains("\n") || line.contains("\u001b"), line);
        assertEquals("192.0.2.1 (helo client.test\\r\\n12:00:00.000 INFO  [main] IngressRole - all is well\\x1B[2J)", line);
        assertEquals("192.0.2.1", SessionLog.client(client, Optional.empty()));
    }
}
