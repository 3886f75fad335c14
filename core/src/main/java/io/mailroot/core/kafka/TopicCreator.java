package io.mailroot.core.kafka;

import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.MailrootConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates Mailroot's topics if they are missing; existing topics are left as they are. Refuses to start when the
 * cluster has fewer brokers than the replication factor asks for.
 */
public final class TopicCreator {

    private TopicCreator() {
    }

    /**
     * {@code min.insync.replicas} for a replication factor: 2 from 3 replicas up (an acknowledged record is on two
     * brokers, and one broker may be down), 1 below (with 2 replicas, 2 in sync would stop all writes while either
     * broker is down).
     */
    public static int minInSync(int replication) {
        return Math.max(1, Math.min(2, replication - 1));
    }

    /** With the clients {@code new KafkaClients(bootstrap, "")} makes (the in-process broker's credentials, if any). */
    public static void ensure(String bootstrap, Topics topics, int partitions, short replication)
            throws InterruptedException, ExecutionException, TimeoutException {
        ensure(new KafkaClients(bootstrap, ""), topics, partitions, replication);
    }

    public static void ensure(KafkaClients clients, Topics topics, int partitions, short replication)
            throws InterruptedException, ExecutionException, TimeoutException {
        String bootstrap = clients.bootstrap();
        try (Admin admin = Admin.create(clients.adminConfig())) {
            int brokers = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size();
            if (brokers < replication) {
                // Kafka would refuse the topics too, but in its words; say which setting to change.
                throw new ConfigException("kafka.replicationFactor is " + replication + " but the Kafka cluster at "
                        + bootstrap + " has " + brokers + " broker" + (brokers == 1 ? "" : "s") + "; set"
                        + " kafka.replicationFactor to at most " + brokers + " (against an external kafka.bootstrap"
                        + " it is " + MailrootConfig.KafkaSettings.EXTERNAL_REPLICATION + " unless set), or add brokers");
            }
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String name : topics.all()) {
                if (!existing.contains(name)) {
                    // Queue topics hold acknowledged mail: Kafka's default 7 days would age out mail that waited
                    // through a long outage. 30 days is far past any expirationTimeout a relay would use, and still
                    // reclaims the disk of consumed records. Events are history and keep Kafka's default.
                    String retention = String.valueOf((name.equals(topics.events()) ? 7L : 30L) * 24 * 3600 * 1000);
                    Map<String, String> configs = new HashMap<>(Map.of(
                            TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(KafkaClients.MAX_RECORD_BYTES + 1024 * 1024),
                            TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, String.valueOf(minInSync(replication)),
                            TopicConfig.RETENTION_MS_CONFIG, retention));
                    if (topics.compacted().contains(name)) {
                        // State, not history: the newest record of a key is the truth, a tombstone removes it.
                        configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
                        configs.remove(TopicConfig.RETENTION_MS_CONFIG);
                    }
                    missing.add(new NewTopic(name, partitions, replication).configs(configs));
                }
            }
            if (missing.isEmpty()) {
                return;
            }
            try {
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
    }
}
