package io.mailroot.launcher;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.mailroot.broker.EmbeddedKafkaBroker;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.KafkaSecurity;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.monitor.LagSnapshot;
import io.mailroot.core.monitor.PartitionLag;
import io.mailroot.core.monitor.TopicLagReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.KafkaException;

/**
 * {@code mailroot topics [--json] [--bootstrap HOST:PORT]}: the lag of every topic, partition and consumer group of
 * the installation ({@link TopicLagReader}). Against {@code kafka.bootstrap: embedded} it reaches the embedded broker
 * of a {@code mailroot start} on this machine with the same dataDir, with the secret that broker keeps there (readable
 * by the service's user only). Exit codes: 0 printed, 1 Kafka could not be read, 2 usage.
 */
final class TopicsCommand {

    static final String USAGE = "usage: mailroot topics [--json] [--bootstrap HOST:PORT] [--config FILE]";
    private static final Duration TIMEOUT = Duration.ofSeconds(15);
    private static final List<String> HEADER =
            List.of("TOPIC", "PARTITION", "GROUP", "END", "COMMITTED", "LAG", "LAG_S", "WAITING", "OVERDUE");

    private TopicsCommand() {
    }

    static int run(List<String> args, MailrootConfig config, PrintStream out, PrintStream err) {
        List<String> rest = new ArrayList<>(args);
        boolean json = rest.remove("--json");
        String bootstrap = null;
        int i = rest.indexOf("--bootstrap");
        if (i >= 0) {
            if (i + 1 >= rest.size()) {
                err.println("mailroot: --bootstrap needs HOST:PORT\n" + USAGE);
                return 2;
            }
            bootstrap = rest.remove(i + 1);
            rest.remove(i);
        }
        if (!rest.isEmpty()) {
            err.println("mailroot: unexpected arguments for 'topics': " + rest + "\n" + USAGE);
            return 2;
        }
        KafkaClients clients;
        try {
            clients = clients(config, bootstrap);
        } catch (IOException e) {
            err.println("mailroot: " + e.getMessage());
            return 1;
        }
        Topics topics = new Topics(config.kafka().topicPrefix(), config.delivery().retryIntervals().size());
        LagSnapshot snapshot;
        try (TopicLagReader reader = new TopicLagReader(clients, topics, TIMEOUT)) {
            snapshot = reader.read();
        } catch (KafkaException e) {
            err.println("mailroot: " + e.getMessage() + " (kafka.bootstrap " + clients.bootstrap() + ")");
            return 1;
        }
        out.print(json ? json(snapshot) : table(snapshot));
        out.flush();
        return 0;
    }

    /**
     * The configured cluster and security, or for {@code embedded} the local broker on {@code kafka.embeddedPort}
     * with the secret in {@code dataDir}; a broker this JVM runs (tests) brings its own credentials.
     */
    static KafkaClients clients(MailrootConfig config, String bootstrap) throws IOException {
        MailrootConfig.KafkaSettings kafka = config.kafka();
        String prefix = kafka.topicPrefix();
        if (kafka.embedded()) {
            String local = bootstrap != null ? bootstrap : "127.0.0.1:" + kafka.embeddedPort();
            var inProcess = KafkaSecurity.inProcess(local);
            if (inProcess.isPresent()) {
                return new KafkaClients(local, prefix, inProcess.get());
            }
            Path secret = new EmbeddedKafkaBroker(config.dataDir().resolve("kafka"), kafka.embeddedPort(),
                    kafka.embeddedPort() + 1).secretFile();
            if (!Files.isReadable(secret)) {
                throw new IOException("cannot read the embedded broker's secret " + secret + ": run 'mailroot topics' as"
                        + " the user of 'mailroot start', with its configuration (dataDir " + config.dataDir() + ")");
            }
            String password = Files.readString(secret, StandardCharsets.UTF_8).trim();
            return new KafkaClients(local, prefix, KafkaSecurity.plainSasl(EmbeddedKafkaBroker.USER, password));
        }
        String target = bootstrap != null ? bootstrap : kafka.bootstrap();
        return new KafkaClients(target, prefix, KafkaSecurity.inProcess(target).orElse(kafka.security()));
    }

    static String table(LagSnapshot snapshot) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(HEADER);
        for (PartitionLag p : snapshot.partitions()) {
            rows.add(List.of(p.topic(), Integer.toString(p.partition()), p.group() == null ? "-" : p.group(),
                    Long.toString(p.endOffset()), Long.toString(p.committedOffset()),
                    p.retry() ? "-" : Long.toString(p.lagRecords()), seconds(p.lagSeconds()),
                    p.retry() ? Long.toString(p.waiting()) : "-", p.retry() ? Long.toString(p.overdue()) : "-"));
        }
        int[] widths = new int[HEADER.size()];
        for (List<String> row : rows) {
            for (int c = 0; c < row.size(); c++) {
                widths[c] = Math.max(widths[c], row.get(c).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < row.size(); c++) {
                String cell = row.get(c);
                // Names left, numbers right, as a reader scans them.
                line.append(c < 1 || c == 2 ? pad(cell, widths[c], false) : pad(cell, widths[c], true));
                line.append(c + 1 < row.size() ? "  " : "");
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        if (snapshot.partitions().isEmpty()) {
            sb.append("(no Mailroot topics yet)\n");
        }
        return sb.toString();
    }

    private static String seconds(double s) {
        return Double.isNaN(s) ? "?" : String.format(Locale.ROOT, "%.1f", s);
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(width - s.length());
        return right ? fill + s : s + fill;
    }

    static String json(LagSnapshot snapshot) {
        List<Map<String, Object>> partitions = new ArrayList<>();
        for (PartitionLag p : snapshot.partitions()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("topic", p.topic());
            m.put("partition", p.partition());
            m.put("group", p.group());
            m.put("endOffset", p.endOffset());
            m.put("committedOffset", p.committedOffset());
            m.put("lagRecords", p.lagRecords());
            m.put("lagSeconds", Double.isNaN(p.lagSeconds()) ? null : p.lagSeconds());
            if (p.retry()) {
                m.put("waiting", p.waiting());
                m.put("overdue", p.overdue());
            }
            partitions.add(m);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("at", snapshot.at().toString());
        doc.put("partitions", partitions);
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }
}
