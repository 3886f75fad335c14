package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigTable;
import java.nio.file.Files;
import java.nio.file.Path;
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
}
