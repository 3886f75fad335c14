package io.mailroot.launcher;

import io.mailroot.broker.EmbeddedKafkaBroker;
import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.KafkaSecurity;
import io.mailroot.core.kafka.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Kafka clients of an operator's command ({@code mailroot queue}, {@code mailroot badmail resubmit}): the
 * configured {@code kafka.bootstrap} and {@code kafka.security}; with {@code kafka.bootstrap: embedded}, the
 * broker a {@code mailroot start} with the same configuration runs on this machine: 127.0.0.1 on
 * {@code kafka.embeddedPort}, with the secret it keeps in {@code dataDir/kafka-secret} (so the command must run as
 * the user that runs the relay, who alone may read it).
 */
final class CommandClients {

    private CommandClients() {
    }

    static KafkaClients of(MailrootConfig config) {
        String prefix = config.kafka().topicPrefix();
        if (!config.kafka().embedded()) {
            return new KafkaClients(config.kafka().bootstrap(), prefix, config.kafka().security());
        }
        int port = config.kafka().embeddedPort();
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(config.dataDir().resolve("kafka"), port, port + 1);
        Path secret = broker.secretFile();
        try {
            return new KafkaClients(broker.bootstrap(), prefix,
                    KafkaSecurity.plainSasl(EmbeddedKafkaBroker.USER, Files.readString(secret, StandardCharsets.UTF_8).trim()));
        } catch (IOException e) {
            throw new ConfigException("kafka.bootstrap is embedded, but the embedded broker's secret " + secret
                    + " cannot be read (" + e + "): run this as the user that runs 'mailroot start' with the same"
                    + " dataDir, or set kafka.bootstrap to the cluster's address");
        }
    }

    static Topics topics(MailrootConfig config) {
        return new Topics(config.kafka().topicPrefix(), config.delivery().retryIntervals().size());
    }
}
