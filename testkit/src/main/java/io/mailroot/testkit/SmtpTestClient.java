package io.mailroot.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A plain-socket SMTP client for tests: sends exactly the bytes given and returns the server's replies. It can
 * start TLS, or begin in it, trusting any certificate (test servers' are self-signed).
 */
public final class SmtpTestClient implements AutoCloseable {

    private final String host;
    private Socket socket;
    private BufferedReader in;
    private OutputStream out;
    private final String greeting;

    public SmtpTestClient(String host, int port) throws IOException {
        this(host, new Socket(host, port));
    }

    private SmtpTestClient(String host, Socket socket) throws IOException {
        this.host = host;
        use(socket);
        greeting = reply();
    }

    /** Connects to an implicit-TLS (RFC 8314) port: the handshake comes before the greeting. */
    public static SmtpTestClient implicitTls(String host, int port) throws IOException {
        SSLSocket s = (SSLSocket) trustAll().createSocket(host, port);
        s.startHandshake();
        return new SmtpTestClient(host, s);
    }

    private void use(Socket s) throws IOException {
        socket = s;
        socket.setSoTimeout(30_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
        out = socket.getOutputStream();
    }

    public String greeting() {
        return greeting;
    }

    /**
     * Upgrades the connection once the server said 220 to STARTTLS, trusting any certificate, and reads on over
     * TLS (whatever was buffered in plain text is dropped, as a real client must). Only {@code protocols}, when
     * given, are offered.
     */
    public SSLSocket startTls(String... protocols) throws IOException {
        SSLSocket s = (SSLSocket) trustAll().createSocket(socket, host, socket.getPort(), true);
        s.setUseClientMode(true);
        if (protocols.length > 0) {
            s.setEnabledProtocols(protocols);
        }
        s.startHandshake();
        use(s);
        return s;
    }

    /** The socket now in use: the TLS one after {@link #startTls}. */
    public Socket socket() {
        return socket;
    }

    /** Whether the server closes the connection: reads whatever else it sends (a TLS alert, say) up to the end. */
    public boolean closedByServer() {
        try {
            for (int lines = 0; lines < 100; lines++) {
                if (in.readLine() == null) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** Sockets that trust any server certificate: for tests only. */
    private static SSLSocketFactory trustAll() {
        TrustManager anyCertificate = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {anyCertificate}, null);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends one command line (CRLF added) and returns the whole reply, lines joined by newline. */
    public String command(String line) throws IOException {
        send(line + "\r\n");
        return reply();
    }

    public void send(String raw) throws IOException {
        out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    public void sendBytes(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
    }

    /** Reads one (possibly multi-line) reply. */
    public String reply() throws IOException {
        List<String> lines = new ArrayList<>();
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed; read so far: " + lines);
            }
            lines.add(line);
        } while (line.length() > 3 && line.charAt(3) == '-');
        return String.join("\n", lines);
    }

    /**
     * Runs one whole transaction; the message must use CRLF line ends and is dot-stuffed here.
     * Returns the reply to the end of data.
     */
    public String send(String from, List<String> to, String message) throws IOException {
        expect(command("MAIL FROM:<" + from + ">"), "250");
        for (String r : to) {
            expect(command("RCPT TO:<" + r + ">"), "250");
        }
        expect(command("DATA"), "354");
        StringBuilder b = new StringBuilder();
        for (String l : message.split("\r\n", -1)) {
            b.append(l.startsWith(".") ? "." + l : l).append("\r\n");
        }
        if (message.endsWith("\r\n")) {
            b.setLength(b.length() - 2);
        }
        b.append(".\r\n");
        send(b.toString());
        return reply();
    }

    public static void expect(String reply, String code) throws IOException {
        if (!reply.startsWith(code)) {
            throw new IOException("expected " + code + " but got: " + reply);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
