package io.mailroot.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.KafkaSecurity;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class SharedKafkaTest {

    @Test
    void embeddedBrokerAcceptsTopics() throws Exception {
        String topic = SharedKafka.uniquePrefix("smoke") + "x";
        try (Admin admin = Admin.create(SharedKafka.adminConfig())) {
            admin.createTopics(java.util.List.of(new NewTopic(topic, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            assertEquals(2, admin.describeTopics(java.util.List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topic).partitions().size());
        }
    }

    @Test
    void theEmbeddedBrokerAdmitsOnlyClientsWithItsSecret() throws Exception {
        String topic = SharedKafka.uniquePrefix("sasl") + "outbound";
        try (Admin admin = Admin.create(SharedKafka.adminConfig())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        KafkaClients mailroot = new KafkaClients(SharedKafka.bootstrap(), "");
        try (KafkaProducer<String, byte[]> p = mailroot.producer("sasl-test")) {
            p.send(new ProducerRecord<>(topic, "k", new byte[] {1})).get(30, TimeUnit.SECONDS);
        }

        // A local user's plain-text client, as anyone on the machine could run: no metadata, so no send.
        Map<String, Object> plain = new HashMap<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedKafka.bootstrap(),
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 3000, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 3000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000, ProducerConfig.LINGER_MS_CONFIG, 0));
        assertRefused(plain, topic);

        // The right protocol with a guessed password is refused by the broker.
        Map<String, Object> guessed = new HashMap<>(plain);
        guessed.putAll(KafkaSecurity.plainSasl("mailroot", "guessed").clientProperties());
        Throwable refused = assertRefused(guessed, topic);
        assertTrue(refused instanceof SaslAuthenticationException
                || refused.getCause() instanceof SaslAuthenticationException, refused.toString());

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(SharedKafka.secretFile())));
        assertTrue(Files.readString(SharedKafka.secretFile()).trim().length() >= 32);
    }

    private static Throwable assertRefused(Map<String, Object> config, String topic) {
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer())) {
            ExecutionException e = null;
            try {
                p.send(new ProducerRecord<>(topic, "relay", new byte[] {2})).get(30, TimeUnit.SECONDS);
            } catch (ExecutionException failed) {
                e = failed;
            } catch (KafkaException failed) {
                return failed;
            } catch (Exception other) {
                throw new AssertionError(other);
            }
            assertTrue(e != null, "a client without the secret could write to the broker");
            return e.getCause();
        }
    }
}
