package io.mailroot.ingress;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/** A test SMTP client that can start TLS (trusting any certificate: the server's is self-signed) or begin in it. */
final class ConnClient implements AutoCloseable {

    private Socket socket;
    private BufferedReader in;
    private OutputStream out;
    private final String greeting;

    private ConnClient(Socket socket) throws IOException {
        use(socket);
        greeting = reply();
    }

    static ConnClient plain(int port) throws IOException {
        return new ConnClient(new Socket("127.0.0.1", port));
    }

    static ConnClient implicitTls(int port) throws IOException {
        SSLSocket s = (SSLSocket) trustAll().createSocket("127.0.0.1", port);
        s.startHandshake();
        return new ConnClient(s);
    }

    static SSLSocketFactory trustAll() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new X509TrustManager() {
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
            }}, new SecureRandom());
            return ctx.getSocketFactory();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void use(Socket s) throws IOException {
        socket = s;
        socket.setSoTimeout(30_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
        out = socket.getOutputStream();
    }

    String greeting() {
        return greeting;
    }

    /** Upgrades the connection after the server's 220 to STARTTLS; only the given protocols if any. */
    SSLSocket startTls(String... protocols) throws IOException {
        SSLSocket s = (SSLSocket) trustAll().createSocket(socket, "127.0.0.1", socket.getPort(), true);
        s.setUseClientMode(true);
        if (protocols.length > 0) {
            s.setEnabledProtocols(protocols);
        }
        s.startHandshake();
        use(s);
        return s;
    }

    Socket socket() {
        return socket;
    }

    String command(String line) throws IOException {
        send(line + "\r\n");
        return reply();
    }

    void send(String raw) throws IOException {
        out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** One reply, lines joined by newline; fails if the server closed first. */
    String reply() throws IOException {
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

    /** Whether the server closes the connection: reads whatever else it sends (a TLS alert, say) up to the end. */
    boolean closedByServer() {
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

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
