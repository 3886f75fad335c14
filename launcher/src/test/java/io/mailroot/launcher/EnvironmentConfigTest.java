package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigException;
import io.mailroot.core.config.MailrootConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A container's start: the file named by MAILROOT_CONFIG, with settings from MAILROOT_* variables over it. */
class EnvironmentConfigTest {

    @TempDir
    Path dir;

    @Test
    void mailrootConfigNamesTheFileAndVariablesWinOverIt() throws Exception {
        Path file = dir.resolve("relay.yml");
        Files.writeString(file, "fqdn: relay.example.com\ndelivery: {maxHopCount: 20}\n");
        MailrootConfig c = Main.load(null, Map.of("MAILROOT_CONFIG", file.toString(),
                "MAILROOT_DELIVERY_MAX_HOP_COUNT", "40", "MAILROOT_JAVA_OPTS", "-Xmx512m"));
        assertEquals("relay.example.com", c.fqdn());
        assertEquals(40, c.delivery().maxHopCount());
        assertEquals(dir.resolve("data"), c.dataDir(), "relative paths are taken from the file's folder");
    }

    @Test
    void configOptionWinsOverMailrootConfig() throws Exception {
        Path file = dir.resolve("relay.yml");
        Files.writeString(file, "fqdn: option.example.com\n");
        MailrootConfig c = Main.load(file, Map.of("MAILROOT_CONFIG", dir.resolve("absent.yml").toString()));
        assertEquals("option.example.com", c.fqdn());
    }

    @Test
    void aMissingFileOrABadVariableStopsStartUpNamingIt() {
        var missing = assertThrows(ConfigException.class,
                () -> Main.load(null, Map.of("MAILROOT_CONFIG", dir.resolve("absent.yml").toString())));
        assertTrue(missing.getMessage().contains("MAILROOT_CONFIG"), missing.getMessage());
        var unknown = assertThrows(ConfigException.class, () -> Main.run(new String[] {"user", "list"},
                Map.of("MAILROOT_CONFIG", dir.resolve("absent.yml").toString(), "MAILROOT_NO_SUCH_SETTING", "1")));
        assertTrue(unknown.getMessage().contains("MAILROOT_CONFIG"), "the file is looked for first: " + unknown.getMessage());
        Path empty = dir.resolve("empty.yml");
        var bad = assertThrows(ConfigException.class, () -> {
            Files.writeString(empty, "");
            Main.load(empty, Map.of("MAILROOT_NO_SUCH_SETTING", "1"));
        });
        assertTrue(bad.getMessage().contains("'MAILROOT_NO_SUCH_SETTING'"), bad.getMessage());
    }
}
