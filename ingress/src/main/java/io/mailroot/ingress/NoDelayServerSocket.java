package io.mailroot.ingress;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A server socket whose connections send each reply at once. SubEthaSMTP writes replies one by one; with Nagle's
 * algorithm on, a pipelining client's delayed ACK held every second reply back by about 40 ms per message.
 */
final class NoDelayServerSocket extends ServerSocket {

    NoDelayServerSocket() throws IOException {
        super();
    }

    @Override
    public Socket accept() throws IOException {
        Socket s = super.accept();
        s.setTcpNoDelay(true);
        return s;
    }
}
