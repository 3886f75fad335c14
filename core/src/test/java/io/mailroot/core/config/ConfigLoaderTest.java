package io.mailroot.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

    private static final Path BASE = Path.of("/srv/mailroot");

    @Test
    void anEmptyFileGivesTheIisDefaults() {
        MailrootConfig c = ConfigLoader.parse("", BASE);
        var v = c.virtualServers().get(0);
        assertEquals("Default SMTP Virtual Server", v.name());
        assertEquals(2525, v.port());
        assertEquals(List.of("127.0.0.1"), v.addresses());
        assertEquals(1000, v.maxConnections());
        assertEquals(20, v.maxConnectionsPerClient());
        assertEquals(Duration.ofMinutes(10), v.connectionTimeout());
        assertEquals(2048, v.maxMessageSizeKb());
        assertEquals(10240, v.maxSessionSizeKb());
        assertEquals(100, v.maxRecipientsPerMessage());
        var d = c.delivery();
        assertEquals(List.of(Duration.ofMinutes(15), Duration.ofMinutes(30), Duration.ofMinutes(60), Duration.ofMinutes(240)),
                d.retryIntervals());
        assertEquals(Duration.ofHours(12), d.delayNotification());
        assertEquals(Duration.ofDays(2), d.expirationTimeout());
        assertEquals(20, d.maxMessagesPerConnection());
        assertEquals(1000, d.maxOutboundConnections());
        assertEquals(100, d.maxConnectionsPerDomain());
        assertEquals(15, d.maxHopCount());
        assertEquals(25, d.outboundPort());
        assertTrue(c.kafka().embedded());
        assertEquals("mailroot.", c.kafka().topicPrefix());
        assertEquals(BASE.resolve("data"), c.dataDir());
        assertEquals(BASE.resolve("data").resolve("mailroot").resolve("Drop"), c.dropDir());
    }

    @Test
    void externalClusterSecurityKeysBecomeClientProperties() {
        ConfigException missing = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("kafka: {bootstrap: \"k1:9093\", security: {protocol: SASL_SSL}}", BASE));
        assertTrue(missing.getMessage().contains("kafka.sasl.username"), missing.getMessage());
        assertThrows(ConfigException.class, () -> ConfigLoader.parse("kafka: {security: {protocol: TLS}}", BASE));

        var security = ConfigLoader.parse("""
                kafka:
                  bootstrap: "k1:9093"
                  security: { protocol: SASL_SSL }
                  sasl: { mechanism: SCRAM-SHA-512, username: relay, password: "p\\"w" }
                  ssl: { truststore: ca.pem }
                """, BASE).kafka().security();
        var p = security.clientProperties();
        assertEquals("SASL_SSL", p.get("security.protocol"));
        assertEquals("SCRAM-SHA-512", p.get("sasl.mechanism"));
        assertEquals("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"relay\""
                + " password=\"p\\\"w\";", p.get("sasl.jaas.config"));
        assertEquals(BASE.resolve("ca.pem").toString(), p.get("ssl.truststore.location"));
        assertEquals("PEM", p.get("ssl.truststore.type"));
        assertTrue(!security.toString().contains("p\"w"), "the password stays out of logs");
        assertEquals("PLAINTEXT", ConfigLoader.parse("", BASE).kafka().security().clientProperties().get("security.protocol"));
    }

    @Test
    void replicationIsOneOnTheEmbeddedBrokerAndThreeOnAnExternalClusterUnlessSet() {
        assertEquals(1, ConfigLoader.parse("", BASE).kafka().replication());
        assertEquals(3, ConfigLoader.parse("kafka: {bootstrap: \"k1:9092,k2:9092\"}", BASE).kafka().replication());
        assertEquals(2, ConfigLoader.parse("kafka: {bootstrap: \"k1:9092\", replicationFactor: 2}", BASE)
                .kafka().replication());
        assertEquals(1, io.mailroot.core.kafka.TopicCreator.minInSync(1));
        assertEquals(1, io.mailroot.core.kafka.TopicCreator.minInSync(2));
        assertEquals(2, io.mailroot.core.kafka.TopicCreator.minInSync(3));
        assertEquals(2, io.mailroot.core.kafka.TopicCreator.minInSync(5));
    }

    @Test
    void valuesFromTheFileOverrideDefaults() {
        MailrootConfig c = ConfigLoader.parse("""
                fqdn: relay.example.com
                localDomains: [Example.COM]
                virtualServers:
                  - name: Outside
                    addresses: [0.0.0.0]
                    port: 25
                    maxConnections: 500
                    maxConnectionsPerClient: null
                    relay: { allow: [10.0.0.0/8] }
                delivery:
                  retryIntervals: [30s, 2m]
                  smartHost: "smart.example.com:587"
                  routeDomains: { Partner.Example: "mx.partner.example:2525" }
                """, BASE);
        assertEquals("relay.example.com", c.fqdn());
        assertTrue(c.isLocal("example.com"));
        assertEquals(500, c.virtualServers().get(0).maxConnections());
        assertNull(c.virtualServers().get(0).maxConnectionsPerClient(), "null: no per-client limit");
        assertEquals(List.of("10.0.0.0/8"), c.virtualServers().get(0).relay().allow());
        assertEquals(List.of(Duration.ofSeconds(30), Duration.ofMinutes(2)), c.delivery().retryIntervals());
        assertEquals("mx.partner.example:2525", c.delivery().routeDomains().get("partner.example"));
    }

    @Test
    void anOutOfRangeValueNamesKeyValueAndRange() {
        var e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("virtualServers:\n  - port: 70000\n", BASE));
        assertEquals("configuration key 'virtualServers[0].port' has value '70000'; allowed: 1–65535", e.getMessage());
    }

    @Test
    void aRetryIntervalBeyondIisRangeIsRefused() {
        var e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("delivery:\n  retryIntervals: [15m, 10000m]\n", BASE));
        assertTrue(e.getMessage().startsWith("configuration key 'delivery.retryIntervals[1]' has value '10000m'"), e.getMessage());
        assertTrue(e.getMessage().contains("1s–9999m"), e.getMessage());
    }

    @Test
    void aMalformedDurationIsRefused() {
        var e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("delivery:\n  expirationTimeout: soon\n", BASE));
        assertTrue(e.getMessage().contains("'delivery.expirationTimeout' has value 'soon'"), e.getMessage());
    }

    @Test
    void anUnknownKeyIsATypoNotASilentDefault() {
        var e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("delivery:\n  smarthost: x\n", BASE));
        assertEquals("unknown configuration key 'delivery.smarthost'", e.getMessage());
    }

    @Test
    void nullMeansNoLimitWhereAllowed() {
        MailrootConfig c = ConfigLoader.parse("virtualServers:\n  - maxMessageSizeKb: null\n", BASE);
        assertNull(c.virtualServers().get(0).maxMessageSizeKb());
        var e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("delivery:\n  outboundPort: null\n", BASE));
        assertTrue(e.getMessage().contains("'delivery.outboundPort' has value 'null'"), e.getMessage());
    }

    @Test
    void documentationListsEverySettingOnce() {
        var docs = ConfigLoader.documentation();
        assertTrue(docs.stream().anyMatch(d -> d.key().equals("virtualServers[].maxMessageSizeKb")
                && d.defaultValue().equals("2048") && d.iisName().contains("Limit message size")));
        assertEquals(docs.size(), docs.stream().map(SettingDoc::key).distinct().count());
    }

    @Test
    void hopShardsDefaultToThePartitionsForRelaysAndOneForDomains() {
        var d = ConfigLoader.parse("", BASE).delivery();
        assertNull(d.hopShards());
        assertEquals(java.util.Map.of(), d.hopShardsByDomain());
        var set = ConfigLoader.parse("delivery: {hopShards: 3, hopShardsByDomain: {Gmail.com: 4}}", BASE).delivery();
        assertEquals(3, set.hopShards());
        assertEquals(java.util.Map.of("gmail.com", 4), set.hopShardsByDomain());
        ConfigException zero = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("delivery: {hopShards: 0}", BASE));
        assertTrue(zero.getMessage().contains("delivery.hopShards") && zero.getMessage().contains("1–1000"),
                zero.getMessage());
        ConfigException byDomain = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("delivery: {hopShardsByDomain: {gmail.com: many}}", BASE));
        assertTrue(byDomain.getMessage().contains("delivery.hopShardsByDomain.gmail.com"), byDomain.getMessage());
        assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("delivery: {hopShardsByDomain: {\"not a domain\": 2}}", BASE));
    }
}
