package io.mailroot.broker;

import io.mailroot.core.folder.PrivateFiles;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.KafkaSecurity;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) inside this JVM. Its log directory is
 * formatted on first start and reused after, so queued mail survives a restart.
 *
 * <p>It admits only Mailroot: both listeners (clients and controller) are on 127.0.0.1 and require SASL PLAIN as
 * user {@value #USER} with a secret generated on first start and kept beside the log directory ({@code
 * kafka-secret}, mode 0600). Without it any local user could write straight to {@code outbound}, past every relay
 * policy, or read every queued message. PLAIN rather than SCRAM: the password crosses only loopback, which other
 * unprivileged users cannot read; PLAIN needs nothing in the KRaft metadata, so log directories formatted before
 * the secret existed work unchanged; and KRaft's controller listener does not support SCRAM.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    /** The one SASL user the embedded broker knows. */
    public static final String USER = "mailroot";

    private final Path logDir;
    private final Path secretFile;
    private final int port;
    private final int controllerPort;
    private KafkaRaftServer server;
    private KafkaSecurity clientSecurity;

    /**
     * @param port the client port on 127.0.0.1, or 0 to choose a free one
     * @param controllerPort the controller port, or 0 to choose a free one
     */
    public EmbeddedKafkaBroker(Path logDir, int port, int controllerPort) {
        this.logDir = logDir;
        this.secretFile = logDir.toAbsolutePath().resolveSibling(logDir.getFileName() + "-secret");
        this.port = port == 0 ? freePort() : port;
        this.controllerPort = controllerPort == 0 ? freePort() : controllerPort;
    }

    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    /** The file holding the broker's secret: {@code kafka-secret} beside a log directory named {@code kafka}. */
    public Path secretFile() {
        return secretFile;
    }

    /** What Mailroot's clients need to connect; known once started. */
    public synchronized KafkaSecurity clientSecurity() {
        if (clientSecurity == null) {
            throw new IllegalStateException("the embedded broker has not started");
        }
        return clientSecurity;
    }

    public synchronized void start() throws Exception {
        // The broker's files hold every queued message: its folder is the service's alone.
        PrivateFiles.createFolders(logDir);
        String secret = PrivateFiles.readOrCreate(secretFile, EmbeddedKafkaBroker::newSecret);
        // One JAAS entry per listener serves both sides: user_mailroot is whom the listener admits, username and
        // password are what the broker itself presents to its controller and to itself.
        String jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username="
                + KafkaSecurity.jaasQuoted(USER) + " password=" + KafkaSecurity.jaasQuoted(secret) + " user_" + USER
                + "=" + KafkaSecurity.jaasQuoted(secret) + ";";
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "BROKER://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "BROKER://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "BROKER");
        p.put("listener.security.protocol.map", "BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT");
        p.put("sasl.enabled.mechanisms", "PLAIN");
        p.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        p.put("sasl.mechanism.controller.protocol", "PLAIN");
        p.put("listener.name.broker.plain.sasl.jaas.config", jaas);
        p.put("listener.name.controller.plain.sasl.jaas.config", jaas);
        p.put("log.dirs", logDir.toAbsolutePath().toString());
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "5");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // KIP-848 groups learn of new assignments on heartbeat: a short interval lets roles start in under a second.
        p.put("group.consumer.min.heartbeat.interval.ms", "100");
        p.put("group.consumer.heartbeat.interval.ms", "500");
        // After kill -9 the dead process's consumers hold their partitions until their session expires, and its
        // broker registration blocks the restarted broker until it expires too: keep both short on one node.
        p.put("group.consumer.min.session.timeout.ms", "3000");
        p.put("group.consumer.session.timeout.ms", "6000");
        p.put("broker.heartbeat.interval.ms", "500");
        p.put("broker.session.timeout.ms", "2000");
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "1");
        p.put("message.max.bytes", String.valueOf(KafkaClients.MAX_RECORD_BYTES + 1024 * 1024));
        p.put("replica.fetch.max.bytes", String.valueOf(KafkaClients.MAX_RECORD_BYTES + 1024 * 1024));
        // One node on one disk: keep the broker's own thread and memory use small beside the relay.
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.put("log.segment.bytes", String.valueOf(64 * 1024 * 1024));
        p.put("log.retention.hours", "168");
        KafkaConfig config = KafkaConfig.fromProps(p, false);
        formatIfNew();
        server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        clientSecurity = KafkaSecurity.plainSasl(USER, secret);
        KafkaSecurity.registerInProcess(bootstrap(), clientSecurity);
        log.info("embedded Kafka broker on {} (data in {}; SASL PLAIN as {}, secret in {})", bootstrap(), logDir, USER,
                secretFile);
    }

    private void formatIfNew() throws Exception {
        String printed = KraftStorage.formatIfNew(logDir, 1, Uuid.randomUuid().toString());
        if (printed != null) {
            log.info("formatted Kafka storage: {}", printed);
        }
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
            KafkaSecurity.unregisterInProcess(bootstrap());
        }
    }

    /** 256 random bits, URL-safe Base64: nothing a JAAS value would need to escape. */
    private static String newSecret() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on 127.0.0.1", e);
        }
    }
}
