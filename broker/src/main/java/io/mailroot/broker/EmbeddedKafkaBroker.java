package io.mailroot.broker;

import io.mailroot.core.folder.PrivateFiles;
import io.mailroot.core.kafka.KafkaClients;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) inside this JVM. Its log directory is
 * formatted on first start and reused after, so queued mail survives a restart.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    private final Path logDir;
    private final int port;
    private final int controllerPort;
    private KafkaRaftServer server;

    /**
     * @param port the client port on 127.0.0.1, or 0 to choose a free one
     * @param controllerPort the controller port, or 0 to choose a free one
     */
    public EmbeddedKafkaBroker(Path logDir, int port, int controllerPort) {
        this.logDir = logDir;
        this.port = port == 0 ? freePort() : port;
        this.controllerPort = controllerPort == 0 ? freePort() : controllerPort;
    }

    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    public synchronized void start() throws Exception {
        // The broker's files hold every queued message: its folder is the service's alone.
        PrivateFiles.createFolders(logDir);
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
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
        log.info("embedded Kafka broker on {} (data in {})", bootstrap(), logDir);
    }

    private void formatIfNew() throws Exception {
        if (Files.exists(logDir.resolve("meta.properties"))) {
            return;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new Formatter()
                .setPrintStream(new PrintStream(out, true, StandardCharsets.UTF_8))
                .setNodeId(1)
                .setClusterId(Uuid.randomUuid().toString())
                .addDirectory(logDir.toAbsolutePath().toString())
                .setMetadataLogDirectory(logDir.toAbsolutePath().toString())
                .setControllerListenerName("CONTROLLER")
                .setReleaseVersion(MetadataVersion.latestProduction())
                .run();
        log.info("formatted Kafka storage: {}", out.toString(StandardCharsets.UTF_8).trim());
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
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
