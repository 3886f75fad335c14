package io.mailroot.router;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mailroot.core.kafka.BatchRewind;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SharedKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The core rewind the router, ndr-service, drop writer and retry roles share, on a real consumer. */
class BatchRewindTest {

    @Test
    void aRewoundPartitionIsReadAgainFromWhereItWasAskedAndTheOthersAreNot() throws Exception {
        String bootstrap = SharedKafka.bootstrap();
        String prefix = SharedKafka.uniquePrefix("rewind");
        Topics topics = new Topics(prefix, 1);
        TopicCreator.ensure(bootstrap, topics, 2, (short) 1);
        KafkaClients clients = new KafkaClients(bootstrap, prefix);
        try (KafkaProducer<String, byte[]> p = clients.producer("rewind-test")) {
            for (int i = 0; i < 6; i++) {
                p.send(new ProducerRecord<>(topics.inbound(), i % 2, "k" + i, new byte[] {(byte) i})).get(30, TimeUnit.SECONDS);
            }
        }
        TopicPartition p0 = new TopicPartition(topics.inbound(), 0);
        TopicPartition p1 = new TopicPartition(topics.inbound(), 1);
        try (KafkaConsumer<String, byte[]> c = clients.consumer("rewind", "rewind-test")) {
            c.assign(List.of(p0, p1));
            c.seekToBeginning(List.of(p0, p1));
            List<ConsumerRecords<String, byte[]>> batches = new ArrayList<>();
            Await.until("all six records", Duration.ofSeconds(30), () -> {
                batches.add(c.poll(Duration.ofMillis(200)));
                return batches.stream().mapToInt(ConsumerRecords::count).sum() == 6;
            });
            ConsumerRecords<String, byte[]> batch = batches.stream().filter(b -> b.records(p0).size() == 3)
                    .findFirst().orElseThrow();

            BatchRewind.toStart(c, batch, List.of(p0));
            assertEquals(List.of("k0", "k2", "k4"), keysOfNextPoll(c, 3));
            BatchRewind.to(c, Map.of(p1, 2L, new TopicPartition(topics.inbound() + "-not-ours", 0), 0L));
            assertEquals(List.of("k5"), keysOfNextPoll(c, 1));
            // The whole batch again: its p0 records and whatever of p1 the same poll happened to bring.
            BatchRewind.toStart(c, batch);
            assertEquals(batch.count(), keysOfNextPoll(c, batch.count()).size());
        }
    }

    private static List<String> keysOfNextPoll(KafkaConsumer<String, byte[]> c, int n) {
        List<String> keys = new ArrayList<>();
        Await.until(n + " records", Duration.ofSeconds(30), () -> {
            for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                keys.add(r.key());
            }
            return keys.size() >= n;
        });
        return keys;
    }
}
