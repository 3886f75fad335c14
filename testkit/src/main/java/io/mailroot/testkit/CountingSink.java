package io.mailroot.testkit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A next hop for cluster tests and benchmarks: an SMTP server that accepts every message and appends the value of
 * its {@code X-Test-Id} header to a file, one line per delivery, written and flushed before the 250, so a line in
 * the file is a delivery the relay was told succeeded. A message without the header is counted as {@code -}.
 * Many sessions at once (a thread each); PIPELINING works since every command gets its reply in order.
 *
 * <pre>java -cp ... io.mailroot.testkit.CountingSink --port 2525 --file /sink/delivered.txt [--delay-ms 0]</pre>
 */
public final class CountingSink implements AutoCloseable {

    private static final String HEADER = "x-test-id:";
    /** A header block larger than this is not searched further: test messages are small. */
    private static final int MAX_LINE = 64 * 1024;

    private final ServerSocket server;
    private final OutputStream file;
    private final long delayMs;
    private final ExecutorService sessions = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "sink-session");
        t.setDaemon(true);
        return t;
    });

    public CountingSink(int port, Path file, long delayMs) throws IOException {
        this.server = new ServerSocket();
        this.server.setReuseAddress(true);
        this.server.bind(new InetSocketAddress(port), 512);
        this.file = new FileOutputStream(file.toFile(), true);
        this.delayMs = delayMs;
        Thread acceptor = new Thread(this::accept, "sink-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static void main(String[] args) throws Exception {
        int port = 2525;
        Path file = Path.of("delivered.txt");
        long delay = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--file" -> file = Path.of(args[++i]);
                case "--delay-ms" -> delay = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (allowed: --port N, --file PATH, --delay-ms N)");
            }
        }
        CountingSink sink = new CountingSink(port, file, delay);
        System.out.println("CountingSink on port " + sink.port() + ", appending to " + file + ", delay " + delay + " ms");
        Thread.currentThread().join();
    }

    public int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sessions.execute(() -> serve(s));
            } catch (IOException e) {
                if (!server.isClosed()) {
                    System.err.println("accept: " + e);
                }
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setSoTimeout(600_000);
            InputStream in = new BufferedInputStream(socket.getInputStream(), 65536);
            OutputStream out = socket.getOutputStream();
            reply(out, "220 sink ESMTP");
            String line;
            while ((line = readLine(in)) != null) {
                String verb = line.length() >= 4 ? line.substring(0, 4).toUpperCase(Locale.ROOT) : line.toUpperCase(Locale.ROOT);
                switch (verb) {
                    case "EHLO" -> reply(out, "250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 0");
                    case "HELO" -> reply(out, "250 sink");
                    case "MAIL", "RCPT", "RSET", "NOOP" -> reply(out, "250 ok");
                    case "QUIT" -> {
                        reply(out, "221 bye");
                        return;
                    }
                    case "DATA" -> {
                        reply(out, "354 go on");
                        String id = readMessage(in);
                        if (id == null) {
                            return;
                        }
                        if (delayMs > 0) {
                            Thread.sleep(delayMs);
                        }
                        record(id);
                        reply(out, "250 ok " + id);
                    }
                    default -> reply(out, "502 not here");
                }
            }
        } catch (IOException e) {
            // the client went away; what it was told stands
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads the message up to the lone dot; returns its X-Test-Id (or "-"), or null if the connection ended first. */
    private static String readMessage(InputStream in) throws IOException {
        String id = "-";
        boolean inHeaders = true;
        String line;
        while ((line = readLine(in)) != null) {
            if (line.equals(".")) {
                return id;
            }
            if (inHeaders) {
                if (line.isEmpty()) {
                    inHeaders = false;
                } else if (id.equals("-") && line.regionMatches(true, 0, HEADER, 0, HEADER.length())) {
                    id = line.substring(HEADER.length()).trim();
                }
            }
        }
        return null;
    }

    private synchronized void record(String id) throws IOException {
        file.write((id + "\n").getBytes(StandardCharsets.US_ASCII));
        file.flush();
    }

    private static void reply(OutputStream out, String text) throws IOException {
        out.write((text + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One line without its CRLF (or LF); null at the end of the stream. Overlong lines are cut, not refused. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
            }
            if (line.size() < MAX_LINE) {
                line.write(b);
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
        sessions.shutdownNow();
        file.close();
    }
}
