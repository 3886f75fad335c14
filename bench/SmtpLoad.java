import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A load loop for Mailroot's SMTP ingress: C connections each send messages back to back until N are accepted.
 * Run with a JDK only: java bench/SmtpLoad.java --messages 5000 --connections 8 --size 10 --to bob@localhost
 * [--host H] [--port P] [--to 'user@d{n}.test' --domains K]: {n} in the recipient cycles through 0..K-1.
 * With --wait-dir DIR it also waits until DIR holds N more files and reports the end-to-end rate.
 */
public class SmtpLoad {

    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 2525, messages = 2000, connections = 8, sizeKb = 10;
        String from = "bench@example.com", to = "bob@localhost";
        int domains = 1;
        Path waitDir = null;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--host" -> host = args[i + 1];
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--messages" -> messages = Integer.parseInt(args[i + 1]);
                case "--connections" -> connections = Integer.parseInt(args[i + 1]);
                case "--size" -> sizeKb = Integer.parseInt(args[i + 1]);
                case "--from" -> from = args[i + 1];
                case "--to" -> to = args[i + 1];
                case "--domains" -> domains = Integer.parseInt(args[i + 1]);
                case "--wait-dir" -> waitDir = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        byte[] body = body(from, to, sizeKb);
        long before = waitDir == null ? 0 : count(waitDir);
        AtomicInteger left = new AtomicInteger(messages);
        AtomicInteger accepted = new AtomicInteger();
        AtomicLong failures = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        final String h = host, f = from, t = to;
        final int p = port, k = domains;
        for (int c = 0; c < connections; c++) {
            Thread th = new Thread(() -> {
                while (left.get() > 0) {
                    try (Socket s = new Socket(h, p)) {
                        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                        OutputStream out = s.getOutputStream();
                        expect(in, "220");
                        cmd(out, "EHLO bench.example.com");
                        expect(in, "250");
                        int n;
                        while ((n = left.getAndDecrement()) > 0) {
                            // pipelined MAIL, RCPT, DATA as a PIPELINING client would send them
                            String rcpt = t.replace("{n}", String.valueOf(n % k));
                            cmd(out, "MAIL FROM:<" + f + ">\r\nRCPT TO:<" + rcpt + ">\r\nDATA");
                            expect(in, "250");
                            expect(in, "250");
                            expect(in, "354");
                            out.write(body);
                            out.flush();
                            if (expect(in, "250")) {
                                accepted.incrementAndGet();
                            } else {
                                failures.incrementAndGet();
                            }
                        }
                        cmd(out, "QUIT");
                    } catch (IOException e) {
                        failures.incrementAndGet();
                        System.err.println("connection failed: " + e);
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("accepted %d messages of %d KB over %d connections in %.2f s: %.0f msg/s (%d failures)%n",
                accepted.get(), sizeKb, connections, secs, accepted.get() / secs, failures.get());
        if (waitDir != null) {
            long target = before + accepted.get();
            long deadline = System.nanoTime() + 600_000_000_000L;
            while (count(waitDir) < target && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            double e2e = (System.nanoTime() - t0) / 1e9;
            System.out.printf("end to end: %d files in %s after %.2f s: %.0f msg/s%n", count(waitDir) - before, waitDir, e2e,
                    (count(waitDir) - before) / e2e);
        }
    }

    private static long count(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.filter(x -> !x.getFileName().toString().startsWith(".")).count();
        }
    }

    private static byte[] body(String from, String to, int kb) {
        StringBuilder b = new StringBuilder("From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: bench\r\n\r\n");
        String line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef\r\n";
        while (b.length() < kb * 1024) {
            b.append(line);
        }
        return b.append(".\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void cmd(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static boolean expect(BufferedReader in, String code) throws IOException {
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed");
            }
        } while (line.length() > 3 && line.charAt(3) == '-');
        if (!line.startsWith(code)) {
            System.err.println("expected " + code + ": " + line);
            return false;
        }
        return true;
    }
}
