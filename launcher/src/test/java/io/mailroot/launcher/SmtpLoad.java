package io.mailroot.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A steady SMTP load: {@code sessions} threads, each sending {@code perSession} messages per connection, paced to
 * {@code ratePerSecond} overall, until {@code target} messages were answered 250 after DATA. Connections alternate
 * between the ports; a session that fails (reset, time-out, a reply other than the one expected) counts the
 * message in hand as not accepted, reconnects to the next port and goes on with a new id, so an id is accepted
 * exactly when this side saw its 250. Even ids go to {@code remoteRecipient}, odd ones to {@code localRecipient}.
 */
final class SmtpLoad {

    private final String runId;
    private final List<Integer> ports;
    private final int sessions;
    private final int perSession;
    private final int target;
    private final long intervalNanos;
    private final String remoteRecipient;
    private final String localRecipient;

    private final Set<String> accepted = ConcurrentHashMap.newKeySet();
    private final AtomicInteger sent = new AtomicInteger();
    /** Accepted plus in hand: a session takes a message only while this stays within the target. */
    private final AtomicInteger claimed = new AtomicInteger();
    private final AtomicInteger notAccepted = new AtomicInteger();
    private final AtomicInteger failedSessions = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicLong nextSlot = new AtomicLong(System.nanoTime());
    private volatile String lastFailure = "";
    private final Thread[] threads;

    SmtpLoad(String runId, List<Integer> ports, int sessions, int perSession, int target, int ratePerSecond,
             String remoteRecipient, String localRecipient) {
        this.runId = runId;
        this.ports = ports;
        this.sessions = sessions;
        this.perSession = perSession;
        this.target = target;
        this.intervalNanos = 1_000_000_000L / ratePerSecond;
        this.remoteRecipient = remoteRecipient;
        this.localRecipient = localRecipient;
        this.threads = new Thread[sessions];
    }

    void start() {
        nextSlot.set(System.nanoTime());
        for (int i = 0; i < sessions; i++) {
            int n = i;
            threads[i] = new Thread(() -> session(n), "smtp-load-" + i);
            threads[i].setDaemon(true);
            threads[i].start();
        }
    }

    boolean done() {
        for (Thread t : threads) {
            if (t.isAlive()) {
                return false;
            }
        }
        return true;
    }

    void stop() {
        for (Thread t : threads) {
            t.interrupt();
        }
    }

    Set<String> accepted() {
        return accepted;
    }

    int acceptedCount() {
        return accepted.size();
    }

    int sent() {
        return sent.get();
    }

    int notAccepted() {
        return notAccepted.get();
    }

    int failedSessions() {
        return failedSessions.get();
    }

    int connections() {
        return connections.get();
    }

    String lastFailure() {
        return lastFailure;
    }

    private void session(int n) {
        int attempt = n;
        while (accepted.size() < target && !Thread.currentThread().isInterrupted()) {
            if (claimed.get() >= target) {
                // the other sessions hold the last messages; one of them may fail and hand its message back
                if (!backOff()) {
                    return;
                }
                continue;
            }
            int port = ports.get(attempt++ % ports.size());
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
                // Long enough for an ingress waiting on a paused broker, whose publish times out first (451).
                s.setSoTimeout(90_000);
                connections.incrementAndGet();
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                OutputStream out = s.getOutputStream();
                expect(in, "220");
                command(out, "EHLO load.test");
                expect(in, "250");
                for (int m = 0; m < perSession && claim(); m++) {
                    try {
                        pace();
                    } catch (IOException e) {
                        claimed.decrementAndGet();
                        throw e;
                    }
                    int seq = sent.incrementAndGet();
                    String id = runId + "-" + seq;
                    String rcpt = seq % 2 == 0 ? remoteRecipient : localRecipient;
                    boolean ok = false;
                    try {
                        command(out, "MAIL FROM:<load@example.org>");
                        expect(in, "250");
                        command(out, "RCPT TO:<" + rcpt + ">");
                        expect(in, "250");
                        command(out, "DATA");
                        expect(in, "354");
                        out.write(message(id, rcpt));
                        out.flush();
                        expect(in, "250");
                        ok = true;
                        accepted.add(id);
                    } finally {
                        if (!ok) {
                            notAccepted.incrementAndGet();
                            claimed.decrementAndGet();
                        }
                    }
                }
                command(out, "QUIT");
                in.readLine();
            } catch (IOException e) {
                failedSessions.incrementAndGet();
                lastFailure = "port " + port + ": " + e;
                if (!backOff()) {
                    return;
                }
            }
        }
    }

    /** Takes one message of the target for this session; false when the others hold or have the rest. */
    private boolean claim() {
        if (claimed.incrementAndGet() <= target) {
            return true;
        }
        claimed.decrementAndGet();
        return false;
    }

    /** A moment before reconnecting, so a dead port is not hammered; false when interrupted. */
    private static boolean backOff() {
        try {
            Thread.sleep(200);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Holds the sender to the overall rate; slots missed while the cluster stalled are not made up in a burst. */
    private void pace() throws IOException {
        long now = System.nanoTime();
        long slot = nextSlot.getAndUpdate(prev -> Math.max(prev, now - intervalNanos * sessions) + intervalNanos);
        long wait = slot - now;
        if (wait > 0) {
            try {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
    }

    private static byte[] message(String id, String rcpt) {
        StringBuilder b = new StringBuilder(1200);
        b.append("From: load@example.org\r\n")
                .append("To: ").append(rcpt).append("\r\n")
                .append("Subject: failure test ").append(id).append("\r\n")
                .append("Message-ID: <").append(id).append("@load.test>\r\n")
                .append("X-Test-Id: ").append(id).append("\r\n")
                .append("\r\n");
        for (int i = 0; i < 12; i++) {
            b.append("The quick brown fox jumps over the lazy dog, line ").append(i).append(" of ").append(id).append("\r\n");
        }
        b.append(".\r\n");
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static void command(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Reads one (possibly multi-line) reply and fails unless it has the code. */
    private static void expect(BufferedReader in, String code) throws IOException {
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed, expected " + code);
            }
        } while (line.length() > 3 && line.charAt(3) == '-');
        if (!line.startsWith(code)) {
            throw new IOException("expected " + code + ", got: " + line);
        }
    }
}
