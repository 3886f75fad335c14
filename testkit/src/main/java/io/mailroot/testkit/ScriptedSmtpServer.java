package io.mailroot.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.SMTPServer;

/**
 * A real SMTP server on a loopback port, standing in for a remote MX or smart host. It records what it accepts
 * and answers DATA from a script ("451 4.3.0 busy", then "250") so tests can drive retries and reports.
 */
public final class ScriptedSmtpServer implements AutoCloseable {

    /** A message this server accepted. */
    public record Received(String from, List<String> recipients, byte[] data, String helo) {
    }

    private final SMTPServer server;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final Deque<String> dataReplies = new ConcurrentLinkedDeque<>();
    private final AtomicInteger dataAttempts = new AtomicInteger();
    private final AtomicInteger sessions = new AtomicInteger();
    private volatile Predicate<String> rejectRecipient = r -> false;
    private volatile String recipientReply = "550 5.1.1 no such user";

    public ScriptedSmtpServer() {
        this(0);
    }

    public ScriptedSmtpServer(int port) {
        this(InetAddress.getLoopbackAddress(), port);
    }

    /** Binds to one loopback address (127.0.0.2, ...) so several next hops can share the relay's outbound port. */
    public ScriptedSmtpServer(String address, int port) throws java.net.UnknownHostException {
        this(InetAddress.getByName(address), port);
    }

    private ScriptedSmtpServer(InetAddress address, int port) {
        server = SMTPServer.port(port)
                .bindAddress(address)
                .hostName("mx.test")
                .insertReceivedHeaders(false)
                .messageHandlerFactory(this::handler)
                .build();
        server.start();
    }

    public int port() {
        return server.getPortAllocated();
    }

    /** Replies for the next DATA commands, in order, e.g. {@code "451 4.3.0 try again"}; "250" accepts. */
    public ScriptedSmtpServer dataReplies(String... replies) {
        dataReplies.clear();
        dataReplies.addAll(List.of(replies));
        return this;
    }

    public ScriptedSmtpServer rejectRecipients(Predicate<String> which, String reply) {
        rejectRecipient = which;
        recipientReply = reply;
        return this;
    }

    public List<Received> received() {
        return new ArrayList<>(received);
    }

    public int dataAttempts() {
        return dataAttempts.get();
    }

    public int sessions() {
        return sessions.get();
    }

    private MessageHandler handler(MessageContext context) {
        sessions.incrementAndGet();
        return new MessageHandler() {
            private String from;
            private final List<String> rcpts = new ArrayList<>();

            @Override
            public void from(String f) {
                from = f;
            }

            @Override
            public void recipient(String r) throws RejectException {
                if (rejectRecipient.test(r)) {
                    throw reject(recipientReply);
                }
                rcpts.add(r);
            }

            @Override
            public String data(InputStream in) throws RejectException, IOException {
                byte[] bytes = in.readAllBytes();
                dataAttempts.incrementAndGet();
                String reply = dataReplies.poll();
                if (reply != null && !reply.startsWith("2")) {
                    throw reject(reply);
                }
                received.add(new Received(from, List.copyOf(rcpts), bytes, context.getHelo().orElse(null)));
                return null;
            }

            @Override
            public void done() {
            }
        };
    }

    private static RejectException reject(String reply) {
        int code = Integer.parseInt(reply.substring(0, 3));
        return new RejectException(code, reply.length() > 4 ? reply.substring(4) : "rejected");
    }

    @Override
    public void close() {
        server.stop();
    }
}
