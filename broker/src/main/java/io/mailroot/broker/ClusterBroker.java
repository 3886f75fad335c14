package io.mailroot.broker;

import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.folder.PrivateFiles;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.KafkaSecurity;
import io.mailroot.core.net.HostAndPort;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node of a Kafka cluster that Mailroot runs itself ({@code mailroot broker}): Kafka's own KRaft server, broker and
 * controller combined, configured from the {@code broker.*} settings, so a cluster needs no image but Mailroot's.
 *
 * <p>Topics get {@code min(3, voters)} replicas and {@code min.insync.replicas} 2 from three nodes on, and unclean
 * leader election stays off: an acknowledged record is on two disks before the producer hears so, and a replica
 * that missed records never becomes leader. Clients authenticate with the {@code kafka.security} settings every
 * role uses: PLAINTEXT, or SASL PLAIN where {@code kafka.sasl.username} / {@code password} name the one account.
 */
public final class ClusterBroker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterBroker.class);

    private final MailrootConfig.Broker settings;
    private final KafkaSecurity security;
    private final Path logDir;
    private KafkaRaftServer server;

    public ClusterBroker(MailrootConfig config) {
        this.settings = config.broker();
        this.security = config.kafka().security();
        this.logDir = config.dataDir().resolve("kafka");
        if (!security.protocol().equals("PLAINTEXT")
                && !(security.protocol().equals("SASL_PLAINTEXT") && "PLAIN".equals(security.mechanism()))) {
            throw ConfigException.invalid("kafka.security.protocol", security.protocol() + "/" + security.mechanism(),
                    "PLAINTEXT, or SASL_PLAINTEXT with kafka.sasl.mechanism PLAIN, for 'mailroot broker' "
                            + "(for TLS or SCRAM, run Kafka itself and point kafka.bootstrap at it)");
        }
        if (security.sasl() && !security.username().matches("[A-Za-z0-9._-]{1,64}")) {
            throw ConfigException.invalid("kafka.sasl.username", security.username(),
                    "letters, digits, '.', '_', '-' for 'mailroot broker' (it names the broker's one account)");
        }
    }

    /** The quorum, this node alone when {@code broker.voters} is not set. */
    Map<Integer, HostAndPort> voters() {
        Map<Integer, HostAndPort> v = MailrootConfig.Broker.parseVoters(settings.voters());
        return v != null ? v : Map.of(settings.nodeId(), new HostAndPort(advertisedHost(), settings.controllerPort()));
    }

    String advertisedHost() {
        if (settings.advertisedHost() != null) {
            return settings.advertisedHost();
        }
        if (!settings.listenAddress().equals("0.0.0.0") && !settings.listenAddress().equals("::")) {
            return settings.listenAddress();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            throw ConfigException.invalid("broker.advertisedHost", "null",
                    "a host name, since this host's own name cannot be found (" + e.getMessage() + ")");
        }
    }

    Properties properties() {
        Map<Integer, HostAndPort> voters = voters();
        int replicas = Math.min(3, voters.size());
        int minInsync = Math.max(1, Math.min(2, replicas - 1));
        String listen = settings.listenAddress().contains(":") ? "[" + settings.listenAddress() + "]" : settings.listenAddress();
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(settings.nodeId()));
        p.put("controller.quorum.voters", voters.entrySet().stream()
                .map(e -> e.getKey() + "@" + e.getValue()).collect(Collectors.joining(",")));
        p.put("listeners", "BROKER://" + listen + ":" + settings.port() + ",CONTROLLER://" + listen + ":" + settings.controllerPort());
        p.put("advertised.listeners", "BROKER://" + advertisedHost() + ":" + settings.port());
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "BROKER");
        if (security.sasl()) {
            String jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username="
                    + KafkaSecurity.jaasQuoted(security.username()) + " password=" + KafkaSecurity.jaasQuoted(security.password())
                    + " user_" + security.username() + "=" + KafkaSecurity.jaasQuoted(security.password()) + ";";
            p.put("listener.security.protocol.map", "BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT");
            p.put("sasl.enabled.mechanisms", "PLAIN");
            p.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
            p.put("sasl.mechanism.controller.protocol", "PLAIN");
            p.put("listener.name.broker.plain.sasl.jaas.config", jaas);
            p.put("listener.name.controller.plain.sasl.jaas.config", jaas);
        } else {
            p.put("listener.security.protocol.map", "BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT");
        }
        p.put("log.dirs", logDir.toAbsolutePath().toString());
        p.put("default.replication.factor", String.valueOf(replicas));
        p.put("min.insync.replicas", String.valueOf(minInsync));
        p.put("unclean.leader.election.enable", "false");
        p.put("offsets.topic.replication.factor", String.valueOf(replicas));
        p.put("transaction.state.log.replication.factor", String.valueOf(replicas));
        p.put("transaction.state.log.min.isr", String.valueOf(minInsync));
        p.put("share.coordinator.state.topic.replication.factor", String.valueOf(replicas));
        p.put("share.coordinator.state.topic.min.isr", String.valueOf(minInsync));
        p.put("offsets.topic.num.partitions", "12");
        p.put("transaction.state.log.num.partitions", "12");
        p.put("group.initial.rebalance.delay.ms", "0");
        // A member's session outlives a group coordinator's failover (the broker's session, 6 s, then the clients'
        // 10 s request time-out on the dead one): with 10 s, members were fenced while the coordinator moved, lost
        // their partitions with every delivery since their last commit, and those went twice. A killed deliverer's
        // partitions wait these 30 s for another deliverer (Kafka's default is 45 s).
        p.put("group.consumer.min.heartbeat.interval.ms", "500");
        p.put("group.consumer.heartbeat.interval.ms", "1000");
        p.put("group.consumer.min.session.timeout.ms", "3000");
        p.put("group.consumer.session.timeout.ms", "30000");
        p.put("broker.heartbeat.interval.ms", "1000");
        p.put("broker.session.timeout.ms", "6000");
        // A follower that stops fetching (paused, partitioned) leaves the ISR after 10 s, not 30: acks=all writes
        // wait for every ISR member, so until then a stalled follower stalls produce on all its partitions.
        p.put("replica.lag.time.max.ms", "10000");
        p.put("auto.create.topics.enable", "false");
        p.put("message.max.bytes", String.valueOf(KafkaClients.MAX_RECORD_BYTES + 1024 * 1024));
        p.put("replica.fetch.max.bytes", String.valueOf(KafkaClients.MAX_RECORD_BYTES + 1024 * 1024));
        p.put("log.retention.hours", "168");
        return p;
    }

    public synchronized void start() throws Exception {
        PrivateFiles.createFolders(logDir);
        KafkaConfig config = KafkaConfig.fromProps(properties(), false);
        if (settings.clusterId() == null && voters().size() > 1) {
            throw ConfigException.invalid("broker.clusterId", "null", "the cluster's id when broker.voters names several nodes");
        }
        String clusterId = settings.clusterId() != null ? settings.clusterId() : Uuid.randomUuid().toString();
        String printed = KraftStorage.formatIfNew(logDir, settings.nodeId(), clusterId);
        if (printed != null) {
            log.info("formatted Kafka storage: {}", printed);
        }
        server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        log.info("Kafka node {} of {} listening on {}:{} (controller {}), advertised as {}:{}, data in {}",
                settings.nodeId(), voters().keySet(), settings.listenAddress(), settings.port(), settings.controllerPort(),
                advertisedHost(), settings.port(), logDir);
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
            server = null;
        }
    }
}
