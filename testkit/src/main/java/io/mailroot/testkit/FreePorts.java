package io.mailroot.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free TCP ports on loopback for servers under test.
 *
 * <p>Why not "bind port 0 and close": that port comes from the kernel's ephemeral range, which every outgoing
 * connection (the Kafka clients make many) also draws from, so between our close and the server's bind another socket
 * could take it (a flaky {@code BindException}). Ports are handed out below the ephemeral range instead (Linux's
 * default starts at 32768), from a start that differs per JVM so test JVMs running side by side rarely meet, and each
 * is checked by binding it on all addresses before it is handed out.
 */
public final class FreePorts {

    private static final int LOW = 20000;
    private static final int HIGH = 32000;
    private static final AtomicInteger NEXT =
            new AtomicInteger(LOW + (int) ((ProcessHandle.current().pid() * 1543L) % (HIGH - LOW)));

    private FreePorts() {
    }

    public static int next() {
        for (int tries = 0; tries < HIGH - LOW; tries++) {
            int port = LOW + Math.floorMod(NEXT.getAndIncrement() - LOW, HIGH - LOW);
            if (bindable(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free TCP port in " + LOW + "-" + HIGH);
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
