package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The folders a node makes before its roles start, and their modes (checked as modes, whatever the umask). */
class NodeFoldersTest {

    @TempDir
    Path dir;

    @Test
    void theNodeMakesDataDropAndBadmailPrivateAndPickupAsUsual() throws Exception {
        MailrootConfig config = ConfigLoader.parse("fqdn: relay.test\ndataDir: srv/data\n", dir);
        MailrootNode.createFolders(config);
        for (Path p : List.of(dir.resolve("srv"), config.dataDir(), config.dropDir().getParent(), config.dropDir(),
                config.badmailDir())) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
        }
        assertTrue(Files.isDirectory(config.pickupDir()));
    }
}
