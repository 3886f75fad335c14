package io.mailroot.ingress.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Metrics;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A log whose writer is stuck (its database accepts the connection and never answers) costs log entries, never SMTP:
 * every session still hears its replies, and the entries past the buffer are dropped and counted.
 */
class ProtocolLogNeverBlocksTest {

    @TempDir
    Path dir;

    @Test
    void aStuckWriterDropsEntriesAndSessionsGoOn() throws Exception {
        List<Socket> held = new CopyOnWriteArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept());
                    }
                } catch (java.io.IOException closed) {
                    // the test is over
                }
            }, "silent-database");
            acceptor.setDaemon(true);
            acceptor.start();
            String server = "Stuck Log " + System.nanoTime();
            try (LogHarness h = LogHarness.start(server, """
                    format: database
                    bufferEntries: 16
                    database: { url: "jdbc:postgresql://127.0.0.1:%d/never" }
                    """.formatted(silent.getLocalPort()), dir, Clock.systemUTC())) {
                for (int i = 0; i < 3; i++) {
                    assertTrue(h.session().startsWith("250 2.0.0 Ok: queued as "));
                }
                List<String> replies = h.noops(60);
                assertEquals(60, replies.stream().filter(r -> r.startsWith("250 ")).count(), replies.toString());
                ProtocolLog log = h.log();
                // 3 x 8 + 62 entries; the writer took at most one batch before it stuck, the buffer holds 16
                assertEquals(0, log.writtenEntries());
                assertTrue(log.droppedEntries() >= 3 * 8 + 62 - 16 - 8 - 1, "dropped: " + log.droppedEntries());
                FunctionCounter meter = Metrics.globalRegistry.find(ProtocolLog.DROPPED_METER).tag("server", server)
                        .functionCounter();
                assertEquals(log.droppedEntries(), (long) meter.count());
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }
}
