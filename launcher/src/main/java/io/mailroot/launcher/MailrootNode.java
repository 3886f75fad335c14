package io.mailroot.launcher;

import io.mailroot.broker.EmbeddedKafkaBroker;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.folder.PrivateFiles;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.monitor.TopicLagMetrics;
import io.mailroot.core.role.Role;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Mailroot process: the chosen roles, and the embedded broker when {@code kafka.bootstrap} is
 * {@code embedded}. Creates the mailroot folders and the topics before any role starts.
 */
public final class MailrootNode implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MailrootNode.class);

    private final MailrootConfig config;
    private final List<RoleName> roleNames;
    private final String bootstrapOverride;
    private final List<Role> running = new ArrayList<>();
    private EmbeddedKafkaBroker broker;
    private volatile ProcessAdmin admin;
    private volatile BrokerProbe probe;
    /** Set once every role has started, cleared as the node begins to stop: what /health/ready reports first. */
    private volatile boolean started;
    private TopicLagMetrics lagMetrics;

    /** @param bootstrapOverride a broker to use instead of the configured one (tests), or null */
    public MailrootNode(MailrootConfig config, List<RoleName> roles, String bootstrapOverride) {
        this.config = config;
        this.roleNames = roles.stream().sorted(Comparator.comparingInt(Enum::ordinal)).distinct().toList();
        this.bootstrapOverride = bootstrapOverride;
    }

    /**
     * dataDir, Drop and Badmail (and any parent made for them) only for the service's user, 0700; Pickup with the
     * default mode, since who may drop mail there is for the operator to decide.
     */
    static void createFolders(MailrootConfig config) throws IOException {
        for (var dir : List.of(config.dataDir(), config.dropDir(), config.badmailDir())) {
            PrivateFiles.createFolders(dir);
        }
        Files.createDirectories(config.pickupDir());
    }

    public synchronized void start() throws Exception {
        createFolders(config);
        // First, so a node that takes long to start (or fails to) already says so on /health/ready.
        admin = ProcessAdmin.open(config, this::notReady, true);
        String bootstrap = bootstrapOverride;
        if (bootstrap == null && config.kafka().embedded()) {
            broker = new EmbeddedKafkaBroker(config.dataDir().resolve("kafka"), config.kafka().embeddedPort(),
                    config.kafka().embeddedPort() + 1);
            broker.start();
            bootstrap = broker.bootstrap();
        } else if (bootstrap == null) {
            bootstrap = config.kafka().bootstrap();
        }
        Topics topics = new Topics(config.kafka().topicPrefix(), config.delivery().retryIntervals().size());
        KafkaClients clients;
        if (broker != null) {
            clients = new KafkaClients(bootstrap, config.kafka().topicPrefix(), broker.clientSecurity());
        } else if (bootstrapOverride != null) {
            clients = new KafkaClients(bootstrap, config.kafka().topicPrefix());
        } else {
            clients = new KafkaClients(bootstrap, config.kafka().topicPrefix(), config.kafka().security());
        }
        if (admin != null) {
            probe = new BrokerProbe(clients.adminConfig());
        }
        TopicCreator.ensure(clients, topics, config.kafka().partitions(), (short) config.kafka().replication());
        if (config.admin().topicLag()) {
            lagMetrics = TopicLagMetrics.start(clients, topics);
        }
        try {
            for (RoleName name : roleNames) {
                Role role = name.create(config, clients, topics);
                role.start();
                synchronized (running) {
                    running.add(role);
                }
                log.info("started {}", role.name());
            }
            started = true;
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    /** Stops roles in the reverse order (ingress first, so nothing new comes in), then the broker. */
    @Override
    public synchronized void close() {
        started = false;
        for (int i = running.size() - 1; i >= 0; i--) {
            Role role = running.get(i);
            try {
                role.close();
            } catch (RuntimeException e) {
                log.warn("stopping {} failed", role.name(), e);
            }
        }
        synchronized (running) {
            running.clear();
        }
        if (lagMetrics != null) {
            lagMetrics.close();
            lagMetrics = null;
        }
        if (broker != null) {
            broker.close();
            broker = null;
        }
        if (probe != null) {
            probe.close();
            probe = null;
        }
        if (admin != null) {
            admin.close();
            admin = null;
        }
    }

    /**
     * What keeps the node from being ready: still starting (or stopping), a role not working (stopped, or waiting
     * to restart after a failure), or Kafka not answering. Runs on the admin listener's threads.
     */
    List<String> notReady() {
        List<String> problems = new ArrayList<>();
        List<Role> roles;
        BrokerProbe kafka;
        synchronized (running) {
            roles = List.copyOf(running);
            kafka = probe;
        }
        if (!started) {
            problems.add("node starting or stopping (" + roles.size() + " of " + roleNames.size() + " roles running)");
        }
        for (Role role : roles) {
            role.notReady().ifPresent(problems::add);
        }
        if (kafka != null) {
            kafka.problem().ifPresent(problems::add);
        }
        return problems;
    }

    /** Where the admin listener is bound; empty when it is off or could not open. */
    public List<InetSocketAddress> adminAddresses() {
        ProcessAdmin a = admin;
        return a == null ? List.of() : a.addresses();
    }

    /** The roles running now, in start order (tests stop one to see the node become unready). */
    List<Role> roles() {
        synchronized (running) {
            return List.copyOf(running);
        }
    }
}
