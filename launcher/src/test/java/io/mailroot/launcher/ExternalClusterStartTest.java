package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.testkit.SharedKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The single test broker given as host:port stands for an external cluster that is too small for the defaults. */
class ExternalClusterStartTest {

    @TempDir
    Path dir;

    /** The test broker as any external cluster with SASL is configured: the keys an operator would write. */
    private MailrootConfig config(String prefix, String extra) throws Exception {
        String secret = Files.readString(SharedKafka.secretFile()).trim();
        return ConfigLoader.parse("fqdn: relay.test\ndataDir: " + dir + "\npickup: {enabled: false}\n"
                + "kafka:\n  bootstrap: \"" + SharedKafka.bootstrap() + "\"\n  topicPrefix: " + prefix + "\n"
                + "  security: {protocol: SASL_PLAINTEXT}\n"
                + "  sasl: {mechanism: PLAIN, username: mailroot, password: \"" + secret + "\"}\n" + extra, dir);
    }

    @Test
    void aClusterWithFewerBrokersThanTheDefaultThreeReplicasFailsStartUpNamingTheKey() throws Exception {
        String prefix = SharedKafka.uniquePrefix("rf-default");
        MailrootNode node = new MailrootNode(config(prefix, ""), List.of(RoleName.ROUTER), null);
        ConfigException e = assertThrows(ConfigException.class, node::start);
        node.close();
        assertTrue(e.getMessage().contains("kafka.replicationFactor is 3") && e.getMessage().contains("1 broker"),
                e.getMessage());
    }

    @Test
    void anExplicitReplicationFactorThatFitsStarts() throws Exception {
        String prefix = SharedKafka.uniquePrefix("rf-one");
        try (MailrootNode node = new MailrootNode(config(prefix, "  replicationFactor: 1\n"), List.of(RoleName.ROUTER),
                null)) {
            node.start();
            try (Admin admin = Admin.create(SharedKafka.adminConfig())) {
                ConfigResource inbound = new ConfigResource(ConfigResource.Type.TOPIC, prefix + "inbound");
                ConfigEntry minIsr = admin.describeConfigs(List.of(inbound)).all().get(30, TimeUnit.SECONDS)
                        .get(inbound).get("min.insync.replicas");
                assertEquals("1", minIsr.value());
            }
        }
    }
}
