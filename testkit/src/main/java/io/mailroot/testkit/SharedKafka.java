package io.mailroot.testkit;

import io.mailroot.broker.EmbeddedKafkaBroker;
import io.mailroot.core.kafka.KafkaClients;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real embedded Kafka broker per test JVM, started on first use and stopped when the JVM exits. It requires
 * SASL as Mailroot's embedded broker does; {@code new KafkaClients(bootstrap(), prefix)} gets its credentials (see
 * {@link KafkaClients#KafkaClients(String, String)}), and so does {@link #adminConfig()}.
 */
public final class SharedKafka {

    private static EmbeddedKafkaBroker broker;
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private SharedKafka() {
    }

    public static synchronized String bootstrap() {
        if (broker == null) {
            try {
                Path dir = Files.createTempDirectory("mailroot-test-kafka");
                EmbeddedKafkaBroker b = new EmbeddedKafkaBroker(dir.resolve("kafka"), 0, 0);
                b.start();
                broker = b;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    b.close();
                    deleteQuietly(dir);
                }, "shared-kafka-stop"));
            } catch (Exception e) {
                throw new IllegalStateException("could not start the embedded Kafka broker", e);
            }
        }
        return broker.bootstrap();
    }

    /** Where the shared broker keeps its SASL secret. */
    public static synchronized Path secretFile() {
        bootstrap();
        return broker.secretFile();
    }

    /** For an Admin client of the shared broker: its bootstrap and credentials. */
    public static Map<String, Object> adminConfig() {
        return new KafkaClients(bootstrap(), "").adminConfig();
    }

    /** A topic prefix of its own for each test, so tests on the shared broker never see each other's records. */
    public static String uniquePrefix(String name) {
        return "t" + PREFIXES.incrementAndGet() + "-" + name + "-" + ProcessHandle.current().pid() + ".";
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }
}
