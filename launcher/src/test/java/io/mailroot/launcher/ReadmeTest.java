package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's configuration table must be the one the loader's declarations produce. */
class ReadmeTest {

    @Test
    void configurationTableMatchesTheDeclarations() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        String start = "<!-- config-table:start -->\n";
        String end = "<!-- config-table:end -->";
        int a = readme.indexOf(start);
        int b = readme.indexOf(end);
        assertTrue(a >= 0 && b > a, "README.md has the config-table markers");
        assertEquals(ConfigTable.markdown(), readme.substring(a + start.length(), b),
                "README table is stale: replace it with the output of ./mailroot config");
    }

    /** Whoever clones the repository has only the repository: the design must be in it, and every module on its map. */
    @Test
    void architectureIsInTheRepository() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        assertFalse(readme.contains("../shared"), "README.md points outside the repository");
        assertTrue(readme.contains("(docs/architecture.md)"), "README.md links docs/architecture.md");
        String map = Files.readString(Path.of("..", "docs", "architecture.md"));
        for (String module : List.of("core", "broker", "ingress", "router", "deliverer", "ndr-service", "launcher",
                "testkit")) {
            assertTrue(map.contains("| `" + module + "` |"), "docs/architecture.md describes module " + module);
            assertTrue(Files.isDirectory(Path.of("..", module)), module + " is still a module");
        }
    }
}
