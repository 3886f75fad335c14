package io.mailroot.ingress;

import io.mailroot.ingress.connection.IdleWatchdog;
import io.mailroot.ingress.connection.ProtocolTrail;
import io.mailroot.ingress.connection.SessionSocket;
import io.mailroot.ingress.connection.TrackedSocket;
import io.mailroot.ingress.tls.TlsContexts;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;

/**
 * The listening socket of one SMTP listener. Its connections send each reply at once (SubEthaSMTP writes replies
 * one by one; with Nagle's algorithm on, a pipelining client's delayed ACK held every second reply back by about
 * 40 ms per message), are watched for idleness by the {@link IdleWatchdog}, are logged by the virtual server's protocol log, reach the session as a
 * {@link SessionSocket} (whole command lines in, counted replies out), and on an implicit-TLS port speak TLS from
 * the first byte (the handshake runs when the greeting is written).
 */
final class NoDelayServerSocket extends ServerSocket {

    private final IdleWatchdog watchdog;
    private final Duration idleLimit;
    private final SSLContext implicitTls;
    private final Predicate<String> dispatchable;
    private final Function<Socket, ProtocolTrail> trails;

    /**
     * @param implicitTls the TLS identity for a port where TLS starts at connect, or null for plain SMTP
     * @param dispatchable whether the listener has a command for a command line
     * @param trails the protocol log of an accepted connection
     */
    NoDelayServerSocket(IdleWatchdog watchdog, Duration idleLimit, SSLContext implicitTls, Predicate<String> dispatchable,
                        Function<Socket, ProtocolTrail> trails) throws IOException {
        super();
        this.watchdog = watchdog;
        this.idleLimit = idleLimit;
        this.implicitTls = implicitTls;
        this.dispatchable = dispatchable;
        this.trails = trails;
    }

    @Override
    public Socket accept() throws IOException {
        TrackedSocket s = watchdog.newSocket(idleLimit);
        try {
            implAccept(s);
            s.setTcpNoDelay(true);
            s.trail(trails.apply(s));
            return new SessionSocket(s, implicitTls == null ? s : TlsContexts.serverSocket(implicitTls, s), dispatchable);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }
}
