package io.mailroot.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class ClusterBrokerTest {

    private static final Path BASE = Path.of("/tmp/mailroot-broker-test");
    private static final String THREE = """
            broker:
              nodeId: 2
              voters: "1@k1:9093,2@k2:9093,3@k3:9093"
              clusterId: bWFpbHJvb3QtY2x1c3Rlcg
              listenAddress: 0.0.0.0
              advertisedHost: k2
            """;

    private static MailrootConfig config(String yaml) {
        return ConfigLoader.parse(yaml, BASE);
    }

    @Test
    void threeNodesKeepEveryRecordOnTwoDisksAndNeverElectAStaleLeader() {
        Properties p = new ClusterBroker(config(THREE)).properties();
        assertEquals("2", p.get("node.id"));
        assertEquals("1@k1:9093,2@k2:9093,3@k3:9093", p.get("controller.quorum.voters"));
        assertEquals("BROKER://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093", p.get("listeners"));
        assertEquals("BROKER://k2:9092", p.get("advertised.listeners"));
        assertEquals("3", p.get("default.replication.factor"));
        assertEquals("2", p.get("min.insync.replicas"));
        assertEquals("3", p.get("offsets.topic.replication.factor"));
        assertEquals("2", p.get("transaction.state.log.min.isr"));
        assertEquals("false", p.get("unclean.leader.election.enable"));
        assertEquals("BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT", p.get("listener.security.protocol.map"));
    }

    @Test
    void aNodeAloneIsItsOwnQuorumWithOneReplica() {
        Properties p = new ClusterBroker(config("broker: { listenAddress: 127.0.0.1, port: 19092, controllerPort: 19093 }")).properties();
        assertEquals("1@127.0.0.1:19093", p.get("controller.quorum.voters"));
        assertEquals("1", p.get("default.replication.factor"));
        assertEquals("1", p.get("min.insync.replicas"));
    }

    @Test
    void theKafkaSaslAccountIsTheOneTheBrokerAdmits() {
        Properties p = new ClusterBroker(config(THREE + """
                kafka:
                  bootstrap: k1:9092
                  security: { protocol: SASL_PLAINTEXT }
                  sasl: { mechanism: PLAIN, username: mailroot, password: "s3cret pass" }
                """)).properties();
        assertEquals("BROKER:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT", p.get("listener.security.protocol.map"));
        String jaas = (String) p.get("listener.name.broker.plain.sasl.jaas.config");
        assertTrue(jaas.contains("user_mailroot=\"s3cret pass\""), jaas);
    }

    @Test
    void refusesWhatItCannotServeNamingTheKey() {
        ConfigException scram = assertThrows(ConfigException.class, () -> new ClusterBroker(config("""
                kafka:
                  bootstrap: k1:9092
                  security: { protocol: SASL_SSL }
                  sasl: { username: u, password: p }
                """)));
        assertTrue(scram.getMessage().contains("kafka.security.protocol"), scram.getMessage());
        ConfigException noId = assertThrows(ConfigException.class,
                () -> config("broker: { nodeId: 1, voters: \"1@a:9093,2@b:9093\" }"));
        assertTrue(noId.getMessage().contains("broker.clusterId"), noId.getMessage());
        ConfigException notAVoter = assertThrows(ConfigException.class,
                () -> config("broker: { nodeId: 4, voters: \"1@a:9093,2@b:9093\", clusterId: bWFpbHJvb3QtY2x1c3Rlcg }"));
        assertTrue(notAVoter.getMessage().contains("broker.nodeId"), notAVoter.getMessage());
        ConfigException badVoters = assertThrows(ConfigException.class, () -> config("broker: { voters: \"1@a,1@b:9093\" }"));
        assertTrue(badVoters.getMessage().contains("broker.voters"), badVoters.getMessage());
    }
}
