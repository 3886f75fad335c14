package io.mailroot.testkit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import javax.net.ssl.SSLSocket;

/**
 * A next hop whose every reply is scripted: a raw SMTP server on one loopback address and port, written by hand so
 * a test can make it do what real servers do and SubEthaSMTP will not (a 421 greeting, a 4xx to MAIL, a slow or
 * missing reply, 421 in the middle of a session, AUTH that checks a password). Connection refused is simply no
 * peer listening. It records every connection, every transaction (MAIL FROM, accepted RCPTs, the data as sent,
 * whether TLS was on, who had authenticated) and when each MAIL command came.
 *
 * <p>Replies for a command are used in order and the last one repeats: {@code on(Command.MAIL, "451 4.3.0 busy",
 * "250 ok")} refuses the first MAIL and accepts every later one.
 */
public final class PeerScript implements AutoCloseable {

    /** The points of a session where a reply is due. */
    public enum Command { GREETING, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, END_OF_DATA, RSET, QUIT }

    /**
     * One scripted reply: its text (a whole reply line, or several joined by CRLF), how long to wait before
     * sending it, or silence (the peer reads on but never answers).
     */
    public record Reply(String text, Duration delay, boolean silent) {
        public static Reply of(String text) {
            return new Reply(text, Duration.ZERO, false);
        }

        public static Reply after(Duration delay, String text) {
            return new Reply(text, delay, false);
        }

        public static Reply silence() {
            return new Reply(null, Duration.ZERO, true);
        }

        int code() {
            return text == null || text.length() < 3 ? 0 : Integer.parseInt(text.substring(0, 3));
        }
    }

    /**
     * A transaction the peer saw through to the reply after the data (accepted or not).
     *
     * @param connection the number of the connection it came on (1 for the first)
     * @param mailFrom the MAIL command's argument as sent, parameters included
     * @param recipients the recipients the peer accepted, in order
     * @param data the data, dot-unstuffed, as the client sent it
     * @param authIdentity who had authenticated on the connection, or null
     * @param reply the reply to the end of the data
     */
    public record Transaction(int connection, String mailFrom, List<String> recipients, byte[] data, boolean tls,
                              String authIdentity, String reply) {
        public boolean accepted() {
            return reply.startsWith("2");
        }

        /** The reverse path without the angle brackets and parameters. */
        public String sender() {
            int open = mailFrom.indexOf('<');
            int close = mailFrom.indexOf('>');
            return open < 0 || close < open ? mailFrom : mailFrom.substring(open + 1, close);
        }
    }

    private static final List<String> DEFAULT_EXTENSIONS =
            List.of("PIPELINING", "8BITMIME", "DSN", "SIZE 52428800", "ENHANCEDSTATUSCODES");
    private static final Map<Command, String> DEFAULT_REPLIES = new EnumMap<>(Map.of(
            Command.GREETING, "220 peer.test ESMTP PeerScript",
            Command.STARTTLS, "220 2.0.0 ready to start TLS",
            Command.MAIL, "250 2.1.0 sender ok",
            Command.RCPT, "250 2.1.5 recipient ok",
            Command.DATA, "354 end data with <CRLF>.<CRLF>",
            Command.END_OF_DATA, "250 2.0.0 queued",
            Command.RSET, "250 2.0.0 reset",
            Command.QUIT, "221 2.0.0 bye"));

    private final ServerSocket server;
    private final Map<Command, ConcurrentLinkedDeque<Reply>> script = new ConcurrentHashMap<>();
    private final List<Map.Entry<Predicate<String>, String>> recipientRules = new CopyOnWriteArrayList<>();
    private volatile List<String> extensions = DEFAULT_EXTENSIONS;
    private volatile boolean startTls;
    private volatile List<String> authMechanisms = List.of();
    private volatile String authUser;
    private volatile String authPassword;
    private final AtomicInteger connections = new AtomicInteger();
    private final List<Transaction> transactions = new CopyOnWriteArrayList<>();
    private final List<Instant> mailCommands = new CopyOnWriteArrayList<>();
    private final List<String> commands = new CopyOnWriteArrayList<>();
    private final List<String> authIdentities = new CopyOnWriteArrayList<>();
    private final AtomicInteger authFailures = new AtomicInteger();
    private final AtomicInteger dataReceived = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    /** A peer on {@code address} (e.g. 127.0.0.2, so several MX can share one port); port 0 picks a free one. */
    public PeerScript(String address, int port) throws IOException {
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getByName(address), port), 50);
        Thread acceptor = new Thread(this::accept, "peer-" + address + ":" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A peer on 127.0.0.1 and a free port. */
    public PeerScript() throws IOException {
        this("127.0.0.1", 0);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** The replies to {@code command}, in order; the last one repeats. */
    public PeerScript on(Command command, String... replies) {
        return on(command, java.util.Arrays.stream(replies).map(Reply::of).toArray(Reply[]::new));
    }

    public PeerScript on(Command command, Reply... replies) {
        script.put(command, new ConcurrentLinkedDeque<>(List.of(replies)));
        return this;
    }

    /** Recipients matching {@code which} get {@code reply} to RCPT, ahead of the script for RCPT. */
    public PeerScript rcpt(Predicate<String> which, String reply) {
        recipientRules.add(Map.entry(which, reply));
        return this;
    }

    /** The EHLO keywords offered (STARTTLS and AUTH are added by {@link #offerStartTls} and {@link #requireAuth}). */
    public PeerScript extensions(String... keywords) {
        extensions = List.of(keywords);
        return this;
    }

    /** Offers STARTTLS with a self-signed certificate. */
    public PeerScript offerStartTls() {
        PeerScriptCertificate.serverContext();
        startTls = true;
        return this;
    }

    /** Offers AUTH with these mechanisms (PLAIN, LOGIN), accepts only this user and password and refuses MAIL before. */
    public PeerScript requireAuth(String user, String password, String... mechanisms) {
        authUser = user;
        authPassword = password;
        authMechanisms = List.of(mechanisms);
        return this;
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /** Every transaction that got as far as the reply to its data. */
    public List<Transaction> transactions() {
        return List.copyOf(transactions);
    }

    /** The transactions the peer accepted (2xx after the data). */
    public List<Transaction> accepted() {
        return transactions.stream().filter(Transaction::accepted).toList();
    }

    /** When each MAIL command arrived, accepted or not. */
    public List<Instant> mailCommands() {
        return List.copyOf(mailCommands);
    }

    /** Every command line received, in clear or over TLS, in order of arrival (AUTH payloads included). */
    public List<String> commands() {
        return List.copyOf(commands);
    }

    /** The identities that authenticated successfully. */
    public List<String> authIdentities() {
        return List.copyOf(authIdentities);
    }

    /** How many times the data of a transaction arrived whole, whatever the peer then answered (or held back). */
    public int dataReceived() {
        return dataReceived.get();
    }

    public int authFailures() {
        return authFailures.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                int number = connections.incrementAndGet();
                open.add(s);
                Thread t = new Thread(() -> serve(s, number), "peer-session-" + number);
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    /** The state of one connection. */
    private final class Session {
        final int number;
        Socket socket;
        InputStream in;
        OutputStream out;
        boolean tls;
        String identity;
        String mailFrom;
        final List<String> recipients = new ArrayList<>();

        Session(Socket socket, int number) throws IOException {
            this.number = number;
            use(socket);
        }

        void use(Socket s) throws IOException {
            socket = s;
            in = new BufferedInputStream(s.getInputStream());
            out = s.getOutputStream();
        }
    }

    private void serve(Socket socket, int number) {
        try (socket) {
            Session s = new Session(socket, number);
            Reply greeting = next(Command.GREETING);
            if (!send(s, greeting)) {
                return;
            }
            if (greeting.code() != 220) {
                // A refusing server only waits for QUIT (RFC 5321 3.1); 421 has already closed.
                while (true) {
                    String line = readLine(s.in);
                    if (line == null || line.toUpperCase(Locale.ROOT).startsWith("QUIT")) {
                        write(s, "221 2.0.0 bye");
                        return;
                    }
                    write(s, "503 5.5.1 no service");
                }
            }
            while (true) {
                String line = readLine(s.in);
                if (line == null) {
                    return;
                }
                commands.add(line);
                if (!handle(s, line)) {
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            // the client went away, or the test closed the peer
        } finally {
            open.remove(socket);
        }
    }

    /** Answers one command; false when the session is over. */
    private boolean handle(Session s, String line) throws IOException {
        String verb = (line.contains(" ") ? line.substring(0, line.indexOf(' ')) : line).toUpperCase(Locale.ROOT);
        String arg = line.contains(" ") ? line.substring(line.indexOf(' ') + 1).trim() : "";
        switch (verb) {
            case "EHLO" -> {
                Reply scripted = scripted(Command.EHLO);
                if (scripted != null) {
                    return send(s, scripted);
                }
                List<String> lines = new ArrayList<>();
                lines.add("peer.test greets " + arg);
                lines.addAll(extensions);
                if (startTls && !s.tls) {
                    lines.add("STARTTLS");
                }
                if (!authMechanisms.isEmpty()) {
                    lines.add("AUTH " + String.join(" ", authMechanisms));
                }
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < lines.size(); i++) {
                    b.append("250").append(i == lines.size() - 1 ? ' ' : '-').append(lines.get(i));
                    if (i < lines.size() - 1) {
                        b.append("\r\n");
                    }
                }
                write(s, b.toString());
                return true;
            }
            case "HELO" -> {
                write(s, "250 peer.test");
                return true;
            }
            case "STARTTLS" -> {
                if (!startTls || s.tls) {
                    write(s, "502 5.5.1 STARTTLS not offered");
                    return true;
                }
                Reply reply = next(Command.STARTTLS);
                if (!send(s, reply)) {
                    return false;
                }
                if (reply.code() == 220) {
                    SSLSocket ssl = (SSLSocket) PeerScriptCertificate.serverContext().getSocketFactory()
                            .createSocket(s.socket, null, s.socket.getPort(), true);
                    ssl.setUseClientMode(false);
                    ssl.startHandshake();
                    s.use(ssl);
                    s.tls = true;
                    // RFC 3207 4.2: everything learnt before TLS is forgotten.
                    s.identity = null;
                    s.mailFrom = null;
                    s.recipients.clear();
                }
                return true;
            }
            case "AUTH" -> {
                return authenticate(s, arg);
            }
            case "MAIL" -> {
                mailCommands.add(Instant.now());
                if (authUser != null && s.identity == null) {
                    write(s, "530 5.7.0 authentication required");
                    return true;
                }
                Reply reply = next(Command.MAIL);
                if (reply.code() / 100 == 2) {
                    s.mailFrom = arg.replaceFirst("(?i)^FROM:", "");
                    s.recipients.clear();
                }
                return send(s, reply);
            }
            case "RCPT" -> {
                if (s.mailFrom == null) {
                    write(s, "503 5.5.1 MAIL first");
                    return true;
                }
                String address = arg.replaceFirst("(?i)^TO:", "").trim();
                address = address.startsWith("<") && address.indexOf('>') > 0
                        ? address.substring(1, address.indexOf('>')) : address;
                Reply reply = null;
                for (Map.Entry<Predicate<String>, String> rule : recipientRules) {
                    if (rule.getKey().test(address)) {
                        reply = Reply.of(rule.getValue());
                        break;
                    }
                }
                if (reply == null) {
                    reply = next(Command.RCPT);
                }
                if (reply.code() / 100 == 2) {
                    s.recipients.add(address);
                }
                return send(s, reply);
            }
            case "DATA" -> {
                if (s.mailFrom == null || s.recipients.isEmpty()) {
                    write(s, "554 5.5.1 no valid recipients");
                    return true;
                }
                Reply reply = next(Command.DATA);
                if (!send(s, reply)) {
                    return false;
                }
                if (reply.code() != 354) {
                    return reply.code() != 421;
                }
                byte[] data = readData(s.in);
                if (data == null) {
                    return false;
                }
                dataReceived.incrementAndGet();
                Reply end = next(Command.END_OF_DATA);
                Transaction done = new Transaction(s.number, s.mailFrom, List.copyOf(s.recipients), data, s.tls,
                        s.identity, end.text());
                s.mailFrom = null;
                s.recipients.clear();
                if (end.silent()) {
                    return send(s, end);
                }
                // Recorded before the reply goes out, so a client that read it finds it recorded; a reply that could
                // not be sent decided nothing.
                transactions.add(done);
                try {
                    return send(s, end);
                } catch (IOException e) {
                    transactions.remove(done);
                    throw e;
                }
            }
            case "RSET" -> {
                s.mailFrom = null;
                s.recipients.clear();
                return send(s, next(Command.RSET));
            }
            case "NOOP" -> {
                write(s, "250 2.0.0 ok");
                return true;
            }
            case "QUIT" -> {
                send(s, next(Command.QUIT));
                return false;
            }
            default -> {
                write(s, "500 5.5.2 command not recognised");
                return true;
            }
        }
    }

    /** RFC 4954 AUTH PLAIN and LOGIN, with or without an initial response. */
    private boolean authenticate(Session s, String arg) throws IOException {
        String[] words = arg.split("\\s+");
        String mechanism = words[0].toUpperCase(Locale.ROOT);
        if (authUser == null || !authMechanisms.contains(mechanism)) {
            write(s, "504 5.5.4 mechanism not supported");
            return true;
        }
        if (s.identity != null) {
            write(s, "503 5.5.1 already authenticated");
            return true;
        }
        String user;
        String password;
        if (mechanism.equals("PLAIN")) {
            String initial = words.length > 1 ? words[1] : challenge(s, "");
            if (initial == null) {
                return false;
            }
            String[] parts = decode(initial).split("\0", -1);
            if (parts.length != 3) {
                write(s, "501 5.5.2 malformed PLAIN response");
                return true;
            }
            user = parts[1];
            password = parts[2];
        } else {
            String u = words.length > 1 ? words[1] : challenge(s, "VXNlcm5hbWU6");
            if (u == null) {
                return false;
            }
            String p = challenge(s, "UGFzc3dvcmQ6");
            if (p == null) {
                return false;
            }
            user = decode(u);
            password = decode(p);
        }
        if (user.equals(authUser) && password.equals(authPassword)) {
            s.identity = user;
            authIdentities.add(user);
            write(s, "235 2.7.0 authentication successful");
        } else {
            authFailures.incrementAndGet();
            write(s, "535 5.7.8 authentication credentials invalid");
        }
        return true;
    }

    private String challenge(Session s, String base64) throws IOException {
        write(s, "334 " + base64);
        String line = readLine(s.in);
        if (line != null) {
            commands.add(line);
        }
        return line;
    }

    private static String decode(String base64) {
        try {
            return new String(Base64.getDecoder().decode(base64.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    private Reply next(Command command) {
        Reply r = scripted(command);
        return r != null ? r : Reply.of(DEFAULT_REPLIES.get(command));
    }

    private Reply scripted(Command command) {
        ConcurrentLinkedDeque<Reply> q = script.get(command);
        if (q == null) {
            return null;
        }
        synchronized (q) {
            return q.size() > 1 ? q.pollFirst() : q.peekFirst();
        }
    }

    /** Sends a reply after its delay; silence reads on until the client leaves. False when the session is over. */
    private boolean send(Session s, Reply reply) throws IOException {
        if (reply.silent()) {
            while (s.in.read() >= 0) {
                // never answer
            }
            return false;
        }
        sleep(reply.delay());
        write(s, reply.text());
        // 421: the server is closing the transmission channel (RFC 5321 4.2.2).
        return reply.code() != 421;
    }

    private static void sleep(Duration d) {
        if (d.isZero()) {
            return;
        }
        try {
            // The peer plays a slow server here; nothing in the test waits on this.
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void write(Session s, String text) throws IOException {
        s.out.write((text + "\r\n").getBytes(StandardCharsets.UTF_8));
        s.out.flush();
    }

    /** One line without its CRLF, or null at the end of the stream. */
    private static String readLine(InputStream in) throws IOException {
        byte[] line = readRawLine(in);
        if (line == null) {
            return null;
        }
        int n = line.length;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            n--;
        }
        return new String(line, 0, n, StandardCharsets.UTF_8);
    }

    private static byte[] readRawLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            if (c == '\n') {
                return b.toByteArray();
            }
        }
        return b.size() == 0 ? null : b.toByteArray();
    }

    /** The data up to the lone dot, with the leading dot of stuffed lines removed; null if the client left. */
    private static byte[] readData(InputStream in) throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        while (true) {
            byte[] line = readRawLine(in);
            if (line == null) {
                return null;
            }
            if (line.length == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n') {
                return data.toByteArray();
            }
            int from = line.length > 0 && line[0] == '.' ? 1 : 0;
            data.write(line, from, line.length - from);
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }
}
