package io.mailroot.ndr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BadmailFolderTest {

    @TempDir
    Path dir;

    @Test
    void warnsOnlyPastTheConfiguredSize() throws Exception {
        BadmailFolder folder = new BadmailFolder(dir, BadmailFolder.warnBytes(1));
        folder.keep("small", new byte[100], "why");
        assertFalse(folder.overWarningSize(), "100 bytes and a reason stay under 1 KB");
        folder.keep("large", new byte[2048], "why");
        assertTrue(folder.overWarningSize());
    }

    @Test
    void nullMeansNeverWarn() {
        assertEquals(Long.MAX_VALUE, BadmailFolder.warnBytes(null));
        assertEquals(102_400L * 1024, BadmailFolder.warnBytes(102_400));
    }
}
