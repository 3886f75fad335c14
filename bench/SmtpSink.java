import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A next hop that accepts every message and throws it away, counting: the far end of a delivery benchmark.
 * Run with a JDK only: java bench/SmtpSink.java --port 2526 [--ports A-B] [--bind ADDR] [--delay-ms MS] [--expect N]
 * Prints the count and rate every second; with --expect it exits after N messages and prints the overall rate.
 */
public class SmtpSink {

    public static void main(String[] args) throws Exception {
        int port = 2526, lastPort = -1;
        long expect = Long.MAX_VALUE;
        String bind = "127.0.0.1";
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--ports" -> {
                    String[] range = args[i + 1].split("-");
                    port = Integer.parseInt(range[0]);
                    lastPort = Integer.parseInt(range[1]);
                }
                case "--bind" -> bind = args[i + 1];
                case "--delay-ms" -> delayMs = Long.parseLong(args[i + 1]);
                case "--expect" -> expect = Long.parseLong(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        AtomicLong messages = new AtomicLong();
        AtomicLong firstAt = new AtomicLong();
        for (int p = port; p <= Math.max(port, lastPort); p++) {
            listen(new ServerSocket(p, 200, InetAddress.getByName(bind)), messages, firstAt);
        }
        System.out.println("sink listening on " + bind + ":" + port + (lastPort > port ? "-" + lastPort : "")
                + (delayMs > 0 ? ", " + delayMs + " ms per message" : ""));
        long last = 0;
        while (messages.get() < expect) {
            Thread.sleep(1000);
            long n = messages.get();
            if (n != last) {
                System.out.printf("%d messages (+%d/s)%n", n, n - last);
            }
            last = n;
        }
        double secs = (System.nanoTime() - firstAt.get()) / 1e9;
        System.out.printf("%d messages in %.2f s since the first: %.0f msg/s%n", messages.get(), secs, messages.get() / secs);
    }

    /** How long each message takes to be accepted: a slow next hop, so that delivery is bound by connections. */
    private static long delayMs;

    private static void listen(ServerSocket server, AtomicLong messages, AtomicLong firstAt) {
        Thread acceptor = new Thread(() -> {
            while (true) {
                try {
                    Socket s = server.accept();
                    s.setTcpNoDelay(true);
                    Thread t = new Thread(() -> serve(s, messages, firstAt));
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private static void serve(Socket s, AtomicLong messages, AtomicLong firstAt) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream(), 65536);
            OutputStream out = s.getOutputStream();
            write(out, "220 sink.bench ESMTP\r\n");
            StringBuilder line = new StringBuilder();
            while (true) {
                String cmd = readLine(in, line);
                if (cmd == null) {
                    return;
                }
                String verb = cmd.length() >= 4 ? cmd.substring(0, 4).toUpperCase() : cmd.toUpperCase();
                switch (verb) {
                    case "EHLO" -> write(out, "250-sink.bench\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 104857600\r\n250 DSN\r\n");
                    case "HELO" -> write(out, "250 sink.bench\r\n");
                    case "DATA" -> {
                        write(out, "354 go ahead\r\n");
                        while (true) {
                            String l = readLine(in, line);
                            if (l == null) {
                                return;
                            }
                            if (l.equals(".")) {
                                break;
                            }
                        }
                        if (delayMs > 0) {
                            try {
                                Thread.sleep(delayMs);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                        if (messages.getAndIncrement() == 0) {
                            firstAt.set(System.nanoTime());
                        }
                        write(out, "250 2.0.0 accepted\r\n");
                    }
                    case "QUIT" -> {
                        write(out, "221 2.0.0 bye\r\n");
                        return;
                    }
                    default -> write(out, "250 2.0.0 ok\r\n");
                }
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    /** Reads one line without its CRLF; the pipelined replies of MAIL/RCPT are written as each command arrives. */
    private static String readLine(InputStream in, StringBuilder b) throws IOException {
        b.setLength(0);
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                int n = b.length();
                if (n > 0 && b.charAt(n - 1) == '\r') {
                    b.setLength(n - 1);
                }
                return b.toString();
            }
            b.append((char) c);
        }
        return null;
    }

    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
