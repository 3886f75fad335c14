package io.mailroot.deliverer.smtp;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.Recipient;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One ESMTP connection to a next hop (RFC 5321). It sends the message bytes exactly as they are, only
 * dot-stuffed, and reports a reply per recipient, which is why we do not use Jakarta Mail here.
 * Not thread safe: one delivery thread owns a session.
 */
public final class SmtpSession implements Closeable {

    private static final int MAX_LINE = 8192;
    private static final byte[] CRLF = {'\r', '\n'};

    private final String host;
    private Socket socket;
    private final Set<Socket> live;
    private InputStream in;
    private OutputStream out;
    private boolean tls;
    private final Set<String> extensions = new HashSet<>();
    private final Set<String> authMechanisms = new HashSet<>();
    private String authenticatedAs;
    /** The reply that refused the last transaction as a whole (MAIL, DATA or the end of data), or null. */
    private SmtpReply transactionRefusal;
    private long sizeLimit;
    private boolean usable = true;
    private int transactions;

    private SmtpSession(String host, Socket socket, Set<Socket> live) throws IOException {
        this.host = host;
        this.socket = socket;
        this.live = live;
        this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    }

    /**
     * Connects and introduces us; with {@code startTls} set, starts TLS when offered; then applies {@code security}:
     * no session without TLS when it is required or credentials are to be sent, and AUTH when it has credentials.
     */
    static SmtpSession open(String host, InetSocketAddress address, String heloName, int connectTimeoutMs,
                            int readTimeoutMs, Set<Socket> live, SSLContext startTls, Security security)
            throws IOException {
        Socket socket = new Socket();
        live.add(socket);
        SmtpSession session = null;
        try {
            socket.connect(address, connectTimeoutMs);
            socket.setSoTimeout(readTimeoutMs);
            socket.setTcpNoDelay(true);
            session = new SmtpSession(host, socket, live);
            session.introduce(heloName);
            SmtpReply tlsRefused = null;
            if (startTls != null && session.supports("STARTTLS")) {
                tlsRefused = session.startTls(startTls, address, heloName, security.verifies());
            }
            session.secure(security, tlsRefused);
            return session;
        } catch (IOException | RuntimeException e) {
            Socket current = session == null ? socket : session.socket;
            live.remove(socket);
            live.remove(current);
            socket.close();
            current.close();
            throw e;
        }
    }

    private void introduce(String heloName) throws IOException {
        SmtpReply greeting = read();
        if (!greeting.positive()) {
            quietQuit();
            throw new SmtpRefusedException(host, greeting);
        }
        hello(heloName);
    }

    /**
     * What the outbound security settings of a relay ask of a session (IIS "Outbound Security").
     *
     * @param requireTls no mail without TLS
     * @param username for AUTH PLAIN or LOGIN, or null for none
     * @param relay the relay as configured, named in every error
     * @param verifyCertificate when TLS is needed, check the relay's certificate (JDK trust store, host name)
     */
    public record Security(boolean requireTls, String username, String password, String relay,
                           boolean verifyCertificate) {
        public static final Security OPPORTUNISTIC = new Security(false, null, null, null, false);

        public boolean tlsNeeded() {
            return requireTls || username != null;
        }

        /** Whether the peer's certificate must be valid for its host name: only when TLS is needed at all. */
        public boolean verifies() {
            return tlsNeeded() && verifyCertificate;
        }

        @Override
        public String toString() {
            return "Security[requireTls=" + requireTls + ", username=" + username + ", relay=" + relay
                    + ", verifyCertificate=" + verifyCertificate + "]";
        }
    }

    /** Refuses the session unless it meets {@code security}, then authenticates if it has credentials. */
    private void secure(Security security, SmtpReply tlsRefused) throws IOException {
        if (security.tlsNeeded() && !tls) {
            quietQuit();
            String why = tlsRefused != null ? "it refused STARTTLS (" + tlsRefused.text() + ")"
                    : "it does not offer STARTTLS";
            throw new SmtpSecurityException("4.7.10", security.requireTls()
                    ? "TLS is required for " + name(security) + " but " + why + "; nothing was sent in clear"
                    : "credentials are configured for " + name(security) + " but " + why
                    + "; the password is never sent in clear");
        }
        if (security.username() != null) {
            authenticate(security);
        }
    }

    private String name(Security security) {
        return security.relay() != null ? "relay " + security.relay() : host;
    }

    /** RFC 4954 AUTH: PLAIN when offered (one round trip), else LOGIN. */
    private void authenticate(Security security) throws IOException {
        String user = security.username();
        String password = security.password() == null ? "" : security.password();
        SmtpReply reply;
        if (authMechanisms.contains("PLAIN")) {
            String token = base64("\0" + user + "\0" + password);
            reply = command("AUTH PLAIN " + token);
            if (reply.code() == 334) {
                reply = command(token);
            }
        } else if (authMechanisms.contains("LOGIN")) {
            reply = command("AUTH LOGIN");
            if (reply.code() == 334) {
                reply = command(base64(user));
            }
            if (reply.code() == 334) {
                reply = command(base64(password));
            }
        } else {
            quietQuit();
            throw new SmtpSecurityException("4.7.0", name(security) + " offers " + (authMechanisms.isEmpty()
                    ? "no AUTH" : "only AUTH " + String.join(" ", authMechanisms.stream().sorted().toList()))
                    + " but credentials are configured for it (we speak PLAIN and LOGIN)");
        }
        if (reply.code() != 235) {
            if (reply.code() == 334) {
                // Abandon the exchange (RFC 4954 4) before saying goodbye.
                command("*");
            }
            quietQuit();
            String status = reply.status();
            throw new SmtpSecurityException("4" + status.substring(1), "authentication as " + user + " at "
                    + name(security) + " failed: " + reply.text());
        }
        authenticatedAs = user;
    }

    private static String base64(String s) {
        return java.util.Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Who we authenticated as, or null. */
    public String authenticatedAs() {
        return authenticatedAs;
    }

    /**
     * RFC 3207 STARTTLS. For opportunistic TLS the certificate is not checked (an MX name says nothing about which
     * certificate to expect), so this protects against listening, not against an active attacker; with {@code verify}
     * (a relay whose settings need TLS and verify certificates) the context checks the chain and the host name is
     * checked against the relay's configured name. A refusal keeps the session in clear and is returned; a failed handshake throws.
     */
    private SmtpReply startTls(SSLContext context, InetSocketAddress address, String heloName, boolean verify)
            throws IOException {
        SmtpReply reply = command("STARTTLS");
        if (reply.code() != 220) {
            return reply;
        }
        // A verified relay is checked against the name it is configured by (and that name is sent as SNI).
        SSLSocket ssl = (SSLSocket) context.getSocketFactory()
                .createSocket(socket, verify ? host : address.getHostString(), address.getPort(), true);
        live.add(ssl);
        live.remove(socket);
        socket = ssl;
        ssl.setUseClientMode(true);
        ssl.setEnabledProtocols(Arrays.stream(ssl.getSupportedProtocols())
                .filter(p -> p.equals("TLSv1.3") || p.equals("TLSv1.2")).toArray(String[]::new));
        if (verify) {
            SSLParameters params = ssl.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            ssl.setSSLParameters(params);
        }
        ssl.startHandshake();
        in = new BufferedInputStream(ssl.getInputStream(), 16 * 1024);
        out = new BufferedOutputStream(ssl.getOutputStream(), 64 * 1024);
        tls = true;
        // RFC 3207 4.2: forget what was learnt before TLS and ask again.
        extensions.clear();
        authMechanisms.clear();
        sizeLimit = 0;
        hello(heloName);
        return null;
    }

    /** Whether the session runs over TLS. */
    public boolean tls() {
        return tls;
    }

    private void hello(String heloName) throws IOException {
        SmtpReply ehlo = command("EHLO " + heloName);
        if (ehlo.positive()) {
            for (String line : ehlo.lines().subList(1, ehlo.lines().size())) {
                String[] words = line.trim().split("\\s+");
                String keyword = words[0].toUpperCase(Locale.ROOT);
                extensions.add(keyword);
                if (keyword.equals("AUTH") || keyword.startsWith("AUTH=")) {
                    // Old servers announce "AUTH=LOGIN PLAIN"; some only that way.
                    if (keyword.length() > 5) {
                        authMechanisms.add(keyword.substring(5));
                    }
                    for (int i = 1; i < words.length; i++) {
                        authMechanisms.add(words[i].toUpperCase(Locale.ROOT));
                    }
                }
                if (keyword.equals("SIZE") && words.length > 1) {
                    try {
                        sizeLimit = Long.parseLong(words[1]);
                    } catch (NumberFormatException ignored) {
                        // a malformed SIZE limit only means we do not know it
                    }
                }
            }
            return;
        }
        if (ehlo.code() == 421) {
            throw new SmtpRefusedException(host, ehlo);
        }
        SmtpReply helo = command("HELO " + heloName);
        if (!helo.positive()) {
            quietQuit();
            throw new SmtpRefusedException(host, helo);
        }
    }

    public String host() {
        return host;
    }

    public boolean supports(String extension) {
        return extensions.contains(extension.toUpperCase(Locale.ROOT));
    }

    /** The SIZE limit the server announced; 0 when none. */
    public long sizeLimit() {
        return sizeLimit;
    }

    /** False once the connection broke, timed out or the server said 421: the session must not be reused. */
    public boolean usable() {
        return usable && !socket.isClosed();
    }

    /**
     * Whether the last transaction was refused as a whole with a temporary reply (to MAIL, DATA or the end of the
     * data): unlike a refused recipient, that is about this host, and another MX may do better.
     */
    public boolean transactionRefused() {
        return transactionRefusal != null;
    }

    /** Transactions completed on this connection so far (for maxMessagesPerConnection). */
    public int transactions() {
        return transactions;
    }

    /**
     * One mail transaction: MAIL, RCPT for each recipient, DATA. Returns one reply per recipient, in order:
     * the RCPT refusal for refused ones, the final DATA reply for accepted ones, or the error that broke the
     * connection. Never throws for the server's or the network's failures: those are results.
     */
    public List<RecipientReply> send(Envelope envelope, List<Recipient> recipients, byte[] message) {
        // RSET between messages: some servers keep state after a refused DATA; pipelined it costs no round trip.
        boolean reset = transactions > 0;
        transactions++;
        transactionRefusal = null;
        RecipientReply[] results = new RecipientReply[recipients.size()];
        String stage = "MAIL FROM";
        try {
            SmtpReply mail;
            List<SmtpReply> rcpt = new ArrayList<>();
            if (supports("PIPELINING")) {
                // RFC 2920: RSET, MAIL and every RCPT in one write, replies read in order.
                if (reset) {
                    writeLine("RSET");
                }
                writeLine(mailFrom(envelope, message));
                for (Recipient r : recipients) {
                    writeLine(rcptTo(r));
                }
                out.flush();
                if (reset) {
                    stage = "RSET";
                    SmtpReply rset = read();
                    noteClosing(rset);
                }
                stage = "MAIL FROM";
                mail = read();
                stage = "RCPT TO";
                for (int i = 0; i < recipients.size(); i++) {
                    rcpt.add(read());
                }
            } else {
                if (reset) {
                    stage = "RSET";
                    SmtpReply rset = command("RSET");
                    if (!rset.positive()) {
                        return closing(recipients, results, stage, rset);
                    }
                }
                stage = "MAIL FROM";
                mail = command(mailFrom(envelope, message));
                stage = "RCPT TO";
                if (mail.positive()) {
                    for (Recipient r : recipients) {
                        rcpt.add(command(rcptTo(r)));
                    }
                }
            }
            if (!mail.positive()) {
                refusedAsAWhole(mail);
                for (int i = 0; i < results.length; i++) {
                    results[i] = RecipientReply.replied(recipients.get(i).address(), mail);
                }
                noteClosing(mail);
                return List.of(results);
            }
            boolean anyAccepted = false;
            for (int i = 0; i < results.length; i++) {
                SmtpReply r = rcpt.get(i);
                if (r.positive()) {
                    anyAccepted = true;
                } else {
                    results[i] = RecipientReply.replied(recipients.get(i).address(), r);
                    noteClosing(r);
                }
            }
            if (!anyAccepted || !usable) {
                return fillLost(recipients, results, "the server closed the transaction");
            }
            stage = "DATA";
            SmtpReply data = command("DATA");
            if (data.code() != 354) {
                refusedAsAWhole(data);
                noteClosing(data);
                return fillReply(recipients, results, data);
            }
            stage = "end of data";
            writeStuffed(message);
            out.flush();
            SmtpReply end = read();
            refusedAsAWhole(end);
            noteClosing(end);
            return fillReply(recipients, results, end);
        } catch (IOException e) {
            usable = false;
            closeQuietly();
            return fillLost(recipients, results, "lost connection with " + host + " while sending " + stage + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }

    private List<RecipientReply> closing(List<Recipient> recipients, RecipientReply[] results, String stage,
                                         SmtpReply reply) {
        usable = false;
        return fillLost(recipients, results, host + " refused " + stage + ": " + reply.text());
    }

    private void refusedAsAWhole(SmtpReply reply) {
        if (reply.transientFailure()) {
            transactionRefusal = reply;
        }
    }

    private void noteClosing(SmtpReply reply) {
        if (reply.code() == 421) {
            usable = false;
        }
    }

    private static List<RecipientReply> fillReply(List<Recipient> recipients, RecipientReply[] results, SmtpReply reply) {
        for (int i = 0; i < results.length; i++) {
            if (results[i] == null) {
                results[i] = RecipientReply.replied(recipients.get(i).address(), reply);
            }
        }
        return List.of(results);
    }

    private static List<RecipientReply> fillLost(List<Recipient> recipients, RecipientReply[] results, String error) {
        for (int i = 0; i < results.length; i++) {
            if (results[i] == null) {
                results[i] = RecipientReply.lost(recipients.get(i).address(), error);
            }
        }
        return List.of(results);
    }

    private String mailFrom(Envelope envelope, byte[] message) {
        StringBuilder b = new StringBuilder("MAIL FROM:<").append(envelope.sender()).append('>');
        if (supports("SIZE")) {
            b.append(" SIZE=").append(message.length);
        }
        if (supports("8BITMIME") && eightBit(message)) {
            b.append(" BODY=8BITMIME");
        }
        if (supports("DSN")) {
            if (envelope.ret() != null) {
                b.append(" RET=").append(envelope.ret().name());
            }
            if (envelope.envId() != null) {
                b.append(" ENVID=").append(xtext(envelope.envId()));
            }
        }
        return b.toString();
    }

    private String rcptTo(Recipient r) {
        StringBuilder b = new StringBuilder("RCPT TO:<").append(r.address()).append('>');
        if (supports("DSN")) {
            if (!r.notifyOn().isEmpty()) {
                b.append(" NOTIFY=").append(r.notifyOn().stream().map(Enum::name).sorted()
                        .collect(Collectors.joining(",")));
            }
            if (r.orcpt() != null) {
                int semi = r.orcpt().indexOf(';');
                b.append(" ORCPT=").append(semi < 0 ? "rfc822;" + xtext(r.orcpt())
                        : r.orcpt().substring(0, semi) + ";" + xtext(r.orcpt().substring(semi + 1)));
            }
        }
        return b.toString();
    }

    /** RFC 3461 xtext: printable ASCII except '+' and '=', everything else as +HH. */
    static String xtext(String s) {
        StringBuilder b = new StringBuilder();
        for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
            int v = c & 0xff;
            if (v >= 33 && v <= 126 && v != '+' && v != '=') {
                b.append((char) v);
            } else {
                b.append('+').append(String.format("%02X", v));
            }
        }
        return b.toString();
    }

    /** Whether the message has any byte outside 7-bit ASCII. */
    public static boolean eightBit(byte[] message) {
        for (byte b : message) {
            if (b < 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * The message as it is, with a '.' doubled at the start of each line (RFC 5321 4.5.2) and a CRLF added
     * if it does not end with one, then the terminating dot.
     */
    void writeStuffed(byte[] message) throws IOException {
        int from = 0;
        boolean lineStart = true;
        for (int i = 0; i < message.length; i++) {
            if (lineStart && message[i] == '.') {
                out.write(message, from, i - from);
                out.write('.');
                from = i;
            }
            lineStart = message[i] == '\n';
        }
        out.write(message, from, message.length - from);
        int n = message.length;
        if (n >= 2 && message[n - 2] == '\r' && message[n - 1] == '\n') {
            // already ends with CRLF
        } else if (n >= 1 && message[n - 1] == '\r') {
            out.write('\n');
        } else {
            out.write(CRLF);
        }
        out.write(new byte[] {'.', '\r', '\n'});
    }

    private SmtpReply command(String line) throws IOException {
        writeLine(line);
        out.flush();
        return read();
    }

    private void writeLine(String line) throws IOException {
        out.write(line.getBytes(StandardCharsets.UTF_8));
        out.write(CRLF);
    }

    /** Reads one reply, all its lines ("250-..." continues, "250 ..." ends). */
    private SmtpReply read() throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line.length() < 3) {
                throw new IOException("malformed reply from " + host + ": '" + line + "'");
            }
            int code;
            try {
                code = Integer.parseInt(line.substring(0, 3));
            } catch (NumberFormatException e) {
                throw new IOException("malformed reply from " + host + ": '" + line + "'");
            }
            lines.add(line.length() > 4 ? line.substring(4) : "");
            if (line.length() == 3 || line.charAt(3) != '-') {
                return new SmtpReply(code, lines);
            }
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed by " + host);
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(Arrays.copyOf(bytes, len), StandardCharsets.UTF_8);
            }
            if (line.size() >= MAX_LINE) {
                throw new IOException("reply line from " + host + " longer than " + MAX_LINE + " bytes");
            }
            line.write(b);
        }
    }

    /** Says goodbye politely when the connection still works, then closes it. */
    public void quit() {
        if (usable()) {
            quietQuit();
        }
        closeQuietly();
    }

    private void quietQuit() {
        try {
            socket.setSoTimeout(Math.min(socket.getSoTimeout() == 0 ? 10_000 : socket.getSoTimeout(), 10_000));
            command("QUIT");
        } catch (IOException ignored) {
            // the message is already handed over; a lost goodbye changes nothing
        }
    }

    private void closeQuietly() {
        live.remove(socket);
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a broken socket can fail; it is gone either way
        }
    }

    /** Closes the socket at once; safe from another thread, which is how a stuck read is abandoned on shutdown. */
    @Override
    public void close() {
        usable = false;
        closeQuietly();
    }
}
