package io.mailroot.ingress.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The logging keys as the loader reads them: defaults per virtual server, and errors naming key, value and range. */
class ProtocolLogConfigTest {

    private static final Path BASE = Path.of("/srv/mailroot");

    private static MailrootConfig parse(String logging) {
        return ConfigLoader.parse("""
                virtualServers:
                  - name: First
                  - name: Second
                    port: 2526
                    logging: %s
                """.formatted(logging), BASE);
    }

    @Test
    void defaultsFollowIisAndEachServerHasItsFolder() {
        MailrootConfig c = parse("{}");
        MailrootConfig.Logging first = c.virtualServers().get(0).logging();
        assertTrue(first.enabled());
        assertEquals("w3c", first.format());
        assertEquals("daily", first.period());
        assertEquals(20480, first.maxSizeKb());
        assertEquals(10_000, first.bufferEntries());
        assertEquals(MailrootConfig.Logging.DEFAULT_FIELDS, first.fields());
        assertEquals(BASE.resolve("data/logs/SMTPSVC1"), first.directory());
        assertEquals(BASE.resolve("data/logs/SMTPSVC2"), c.virtualServers().get(1).logging().directory());
        assertEquals("mailroot_smtp_log", first.database().table());
    }

    @Test
    void everyW3cFieldIsSelectable() {
        String all = MailrootConfig.Logging.W3C_FIELDS.toString();
        assertEquals(MailrootConfig.Logging.W3C_FIELDS, parse("{ fields: " + all + " }").virtualServers().get(1).logging().fields());
    }

    @Test
    void anUnknownFieldNamesKeyValueAndTheAllowedFields() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("{ fields: [date, cs-referrer] }"));
        assertTrue(e.getMessage().contains("virtualServers[1].logging.fields"), e.getMessage());
        assertTrue(e.getMessage().contains("cs-referrer"), e.getMessage());
        assertTrue(e.getMessage().contains("cs(Referer)"), e.getMessage());
    }

    @Test
    void periodsTablesAndUrlsAreChecked() {
        for (String bad : List.of("{ period: yearly }", "{ maxSizeKb: 0 }", "{ bufferEntries: 1 }",
                "{ database: { table: 'x; DROP TABLE y' } }", "{ database: { url: 'jdbc:mysql://h/db' } }")) {
            ConfigException e = assertThrows(ConfigException.class, () -> parse(bad), bad);
            assertTrue(e.getMessage().contains("virtualServers[1].logging."), e.getMessage());
        }
    }

    @Test
    void everyKeyIsDocumentedWithItsIisName() {
        List<String> keys = ConfigLoader.documentation().stream().map(d -> d.key()).toList();
        for (String k : List.of("enabled", "format", "directory", "period", "maxSizeKb", "localTimeNaming", "fields",
                "bufferEntries", "database.url", "database.table", "database.user", "database.password")) {
            assertTrue(keys.contains("virtualServers[].logging." + k), k);
        }
    }
}
