package io.mailroot.launcher;

import io.mailroot.broker.EmbeddedKafkaBroker;
import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.KafkaSecurity;
import io.mailroot.core.kafka.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Kafka clients for a command run beside a node (not a role): the configured {@code kafka.bootstrap} and
 * {@code kafka.security}, or, with {@code kafka.bootstrap: embedded}, the running node's embedded broker on
 * 127.0.0.1 with its secret from {@code dataDir/kafka-secret} (readable by the service's user only).
 */
record CommandClients(KafkaClients clients, Topics topics) {

    static CommandClients of(MailrootConfig config) {
        MailrootConfig.KafkaSettings k = config.kafka();
        Topics topics = new Topics(k.topicPrefix(), config.delivery().retryIntervals().size());
        if (k.embedded()) {
            String bootstrap = "127.0.0.1:" + k.embeddedPort();
            Path secret = new EmbeddedKafkaBroker(config.dataDir().resolve("kafka"), k.embeddedPort(),
                    k.embeddedPort() + 1).secretFile();
            try {
                String password = Files.readString(secret).trim();
                return new CommandClients(new KafkaClients(bootstrap, k.topicPrefix(),
                        KafkaSecurity.plainSasl(EmbeddedKafkaBroker.USER, password)), topics);
            } catch (IOException e) {
                throw new ConfigException("kafka.bootstrap is 'embedded' but the embedded broker's secret " + secret
                        + " cannot be read (" + e.getMessage() + "): run the command as the service's user, on its node");
            }
        }
        KafkaSecurity security = KafkaSecurity.inProcess(k.bootstrap()).orElse(k.security());
        return new CommandClients(new KafkaClients(k.bootstrap(), k.topicPrefix(), security), topics);
    }
}
