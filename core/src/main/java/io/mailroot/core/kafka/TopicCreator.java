package io.mailroot.core.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates Mailroot's topics if they are missing; existing topics are left as they are. */
public final class TopicCreator {

    private TopicCreator() {
    }

    public static void ensure(String bootstrap, Topics topics, int partitions, short replication)
            throws InterruptedException, ExecutionException, TimeoutException {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String name : topics.all()) {
                if (!existing.contains(name)) {
                    // Queue topics hold acknowledged mail: Kafka's default 7 days would age out mail that waited
                    // through a long outage. 30 days is far past any expirationTimeout a relay would use, and still
                    // reclaims the disk of consumed records. Events are history and keep Kafka's default.
                    String retention = String.valueOf((name.equals(topics.events()) ? 7L : 30L) * 24 * 3600 * 1000);
                    missing.add(new NewTopic(name, partitions, replication).configs(Map.of(
                            TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(KafkaClients.MAX_RECORD_BYTES + 1024 * 1024),
                            TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, String.valueOf(Math.min(2, replication)),
                            TopicConfig.RETENTION_MS_CONFIG, retention)));
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
