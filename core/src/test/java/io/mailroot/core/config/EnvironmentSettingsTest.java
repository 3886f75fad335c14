package io.mailroot.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Settings from MAILROOT_* variables, as a container gets them, read like the file. */
class EnvironmentSettingsTest {

    private static final Path BASE = Path.of("/srv/mailroot");

    @Test
    void valuesAreYamlNumbersBooleansListsMappingsAndText() {
        MailrootConfig c = ConfigLoader.parse("", BASE, Map.of(
                "MAILROOT_DELIVERY_MAX_CONNECTIONS_PER_DOMAIN", "12",
                "MAILROOT_PICKUP_ENABLED", "false",
                "MAILROOT_LOCAL_DOMAINS", "[a.example, B.example]",
                "MAILROOT_DELIVERY_RETRY_INTERVALS", "[1m, 2h]",
                "MAILROOT_DELIVERY_ROUTE_DOMAINS", "{x.com: \"relay:25\"}",
                "MAILROOT_DELIVERY_OUTBOUND_SECURITY", "{\"relay:25\": {requireTls: true}}",
                "MAILROOT_KAFKA_BOOTSTRAP", "host:9092,host2:9092",
                "MAILROOT_VIRTUAL_SERVERS_0_MAX_CONNECTIONS", "null",
                "PATH", "/usr/bin"));
        assertEquals(12, c.delivery().maxConnectionsPerDomain());
        assertFalse(c.pickup().enabled());
        assertEquals(List.of("a.example", "b.example"), c.localDomains());
        assertEquals(List.of(Duration.ofMinutes(1), Duration.ofHours(2)), c.delivery().retryIntervals());
        assertEquals(Map.of("x.com", "relay:25"), c.delivery().routeDomains());
        assertTrue(c.delivery().outboundSecurity().get("relay:25").requireTls());
        assertEquals("host:9092,host2:9092", c.kafka().bootstrap());
        assertNull(c.virtualServers().get(0).maxConnections(), "null: no limit");
    }

    @Test
    void theEnvironmentWinsOverTheFileAndLeavesTheRestOfTheFile() {
        String yaml = """
                delivery:
                  maxHopCount: 20
                  outboundPort: 2525
                """;
        MailrootConfig c = ConfigLoader.parse(yaml, BASE, Map.of("MAILROOT_DELIVERY_MAX_HOP_COUNT", "30"));
        assertEquals(30, c.delivery().maxHopCount());
        assertEquals(2525, c.delivery().outboundPort());
        assertEquals(20, ConfigLoader.parse(yaml, BASE).delivery().maxHopCount(), "parse(yaml, base) reads the file alone");
    }

    @Test
    void virtualServersAreNumberedAndOnePastTheFileAddsOne() {
        String yaml = """
                virtualServers:
                  - name: Outside
                    port: 25
                """;
        MailrootConfig c = ConfigLoader.parse(yaml, BASE, Map.of(
                "MAILROOT_VIRTUAL_SERVERS_0_PORT", "2500",
                "MAILROOT_VIRTUAL_SERVERS_1_NAME", "Submission",
                "MAILROOT_VIRTUAL_SERVERS_1_PORT", "587",
                "MAILROOT_VIRTUAL_SERVERS_1_AUTHENTICATION_BASIC", "true"));
        assertEquals(2, c.virtualServers().size());
        assertEquals("Outside", c.virtualServers().get(0).name());
        assertEquals(2500, c.virtualServers().get(0).port());
        assertEquals("Submission", c.virtualServers().get(1).name());
        assertEquals(587, c.virtualServers().get(1).port());
        assertTrue(c.virtualServers().get(1).authentication().basic());

        var gap = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(yaml, BASE, Map.of("MAILROOT_VIRTUAL_SERVERS_2_PORT", "587")));
        assertTrue(gap.getMessage().contains("MAILROOT_VIRTUAL_SERVERS_2_PORT"), gap.getMessage());
        assertTrue(gap.getMessage().contains("indexes 0–1"), gap.getMessage());
    }

    @Test
    void aRefusedValueGetsTheFilesMessageAndNamesTheVariable() {
        String fromFile = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("delivery: {maxHopCount: 5}", BASE)).getMessage();
        var e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("", BASE, Map.of("MAILROOT_DELIVERY_MAX_HOP_COUNT", "5")));
        assertEquals(fromFile + " (from MAILROOT_DELIVERY_MAX_HOP_COUNT)", e.getMessage());
        assertEquals("configuration key 'delivery.maxHopCount' has value '5'; allowed: 10–256"
                + " (from MAILROOT_DELIVERY_MAX_HOP_COUNT)", e.getMessage());

        var inMapping = assertThrows(ConfigException.class, () -> ConfigLoader.parse("", BASE,
                Map.of("MAILROOT_DELIVERY_ROUTE_DOMAINS", "{x.com: \"relay:99999\"}")));
        assertTrue(inMapping.getMessage().startsWith("configuration key 'delivery.routeDomains.x.com'"), inMapping.getMessage());
        assertTrue(inMapping.getMessage().endsWith("(from MAILROOT_DELIVERY_ROUTE_DOMAINS)"), inMapping.getMessage());

        var indexed = assertThrows(ConfigException.class, () -> ConfigLoader.parse("", BASE,
                Map.of("MAILROOT_VIRTUAL_SERVERS_0_PORT", "seventy")));
        assertEquals("configuration key 'virtualServers[0].port' has value 'seventy'; allowed: 1–65535"
                + " (from MAILROOT_VIRTUAL_SERVERS_0_PORT)", indexed.getMessage());

        var fileStill = assertThrows(ConfigException.class, () -> ConfigLoader.parse("delivery: {outboundPort: 0}", BASE,
                Map.of("MAILROOT_DELIVERY_MAX_HOP_COUNT", "20")));
        assertFalse(fileStill.getMessage().contains("MAILROOT_"), "a key from the file names no variable: " + fileStill.getMessage());
    }

    @Test
    void aVariableThatNamesNoSettingStopsStartUpLikeAnUnknownKey() {
        var e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("", BASE, Map.of("MAILROOT_DELIVERY_MAX_HOPS", "20")));
        assertTrue(e.getMessage().startsWith("unknown environment variable 'MAILROOT_DELIVERY_MAX_HOPS'"), e.getMessage());
        // A mapping's own entries are given with the mapping, not one by one; intermediate mappings are not settings.
        for (String name : List.of("MAILROOT_DELIVERY", "MAILROOT_DELIVERY_ROUTE_DOMAINS_X_COM",
                "MAILROOT_VIRTUAL_SERVERS_PORT", "MAILROOT_VIRTUAL_SERVERS_01_PORT")) {
            assertThrows(ConfigException.class, () -> ConfigLoader.parse("", BASE, Map.of(name, "1")), name);
        }
        // The launcher's own variables are no settings, and refused by nobody.
        MailrootConfig c = ConfigLoader.parse("", BASE, Map.of(
                "MAILROOT_JAVA_OPTS", "-Xmx2g", "MAILROOT_CONFIG", "/etc/mailroot.yml"));
        assertEquals(15, c.delivery().maxHopCount());
    }

    @Test
    void aValueThatIsNotYamlIsRefusedNamingTheVariable() {
        var e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("", BASE, Map.of("MAILROOT_DELIVERY_SMART_HOST", "[unclosed")));
        assertTrue(e.getMessage().contains("MAILROOT_DELIVERY_SMART_HOST"), e.getMessage());
    }

    @Test
    void everyDocumentedKeyHasItsOwnVariable() {
        assertEquals("MAILROOT_KAFKA_BOOTSTRAP", EnvironmentSettings.variableName("kafka.bootstrap"));
        assertEquals("MAILROOT_DELIVERY_MAX_CONNECTIONS_PER_DOMAIN",
                EnvironmentSettings.variableName("delivery.maxConnectionsPerDomain"));
        assertEquals("MAILROOT_LOCAL_DOMAINS", EnvironmentSettings.variableName("localDomains"));
        assertEquals("MAILROOT_VIRTUAL_SERVERS_<i>_PORT", EnvironmentSettings.variableName("virtualServers[].port"));

        List<EnvironmentSettings.Variable> variables = EnvironmentSettings.variables();
        Set<String> names = new HashSet<>();
        Map<String, String> keyByName = new HashMap<>();
        for (EnvironmentSettings.Variable v : variables) {
            String name = EnvironmentSettings.variableName(v.key());
            assertTrue(names.add(name), v.key() + " and " + keyByName.get(name) + " both map to " + name);
            keyByName.put(name, v.key());
        }
        // No name, with an index filled in, could be read as another key's, or as the launcher's own variables.
        for (EnvironmentSettings.Variable v : variables) {
            String name = EnvironmentSettings.variableName(v.key()).replace("<i>", "0");
            List<String> matching = variables.stream().filter(w -> w.name().matcher(name).matches())
                    .map(EnvironmentSettings.Variable::key).toList();
            assertEquals(List.of(v.key()), matching, name);
            assertFalse(EnvironmentSettings.LAUNCHER_VARIABLES.contains(name), name);
        }
        assertTrue(keyByName.containsKey("MAILROOT_DELIVERY_ROUTE_DOMAINS"));
        assertTrue(keyByName.containsKey("MAILROOT_DELIVERY_OUTBOUND_SECURITY"));
        assertTrue(keyByName.keySet().stream().noneMatch(n -> n.contains("<RELAY>") || n.contains("<")
                && !n.contains("<i>")), "entries of free-key mappings are given with their mapping");
        long settable = ConfigLoader.documentation().stream().filter(d -> !d.key().contains("<")).count();
        assertEquals(settable, variables.size(), "every documented key (but free-key entries) has a variable");
    }
}
