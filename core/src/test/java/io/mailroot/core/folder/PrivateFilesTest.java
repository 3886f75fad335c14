package io.mailroot.core.folder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the service writes is its own: 0600 files, 0700 folders, checked as modes (not through the umask). */
class PrivateFilesTest {

    @TempDir
    Path dir;

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void atomicFilesWritesPrivateFilesInPrivateFolders() throws Exception {
        Path file = dir.resolve("made").resolve("inner").resolve("users");
        AtomicFiles.write(file, "alice:hash\n".getBytes(StandardCharsets.UTF_8));
        assertEquals("rw-------", mode(file));
        assertEquals("rwx------", mode(dir.resolve("made").resolve("inner")));
        assertEquals("rwx------", mode(dir.resolve("made")), "every folder made on the way");
        assertEquals("alice:hash\n", Files.readString(file));
    }

    @Test
    void aLeftoverTemporaryFileAndAnOldFileDoNotPassOnTheirMode() throws Exception {
        Path target = dir.resolve("DROP1.eml");
        Files.writeString(target, "old");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
        Path tmp = dir.resolve(".DROP1.eml.tmp");
        Files.writeString(tmp, "half a file from a crash");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-rw-rw-"));
        AtomicFiles.write(target, "new".getBytes(StandardCharsets.UTF_8));
        assertEquals("rw-------", mode(target));
        assertEquals("new", Files.readString(target));
    }

    @Test
    void aFolderThatExistsKeepsTheModeItsOwnerGaveIt() throws Exception {
        Path drop = Files.createDirectory(dir.resolve("Drop"));
        Files.setPosixFilePermissions(drop, PosixFilePermissions.fromString("rwxr-x---"));
        AtomicFiles.write(drop.resolve("a.eml"), new byte[] {1});
        assertEquals("rwxr-x---", mode(drop));
        assertEquals("rw-------", mode(drop.resolve("a.eml")));
    }

    @Test
    void badmailEntriesArePrivate() throws Exception {
        Path folder = dir.resolve("mailroot").resolve("Badmail");
        Path bad = new Badmail(folder).write("ID1", "the message".getBytes(StandardCharsets.UTF_8), "why");
        assertEquals("rw-------", mode(bad));
        assertEquals("rw-------", mode(folder.resolve("ID1.bdr")));
        assertEquals("rwx------", mode(folder));
    }

    @Test
    void badmailAndDropNameFilesOneWay() throws Exception {
        assertEquals("ID1", FileNames.safe("ID1"));
        assertEquals("a_b_.._c", FileNames.safe("a/b\\..\\c"));
        assertEquals("_hidden", FileNames.safe(".hidden"), "a leading dot would hide the file");
        Path folder = dir.resolve("Badmail");
        Path bad = new Badmail(folder).write(".x/../y", new byte[] {1}, "why");
        assertEquals("_x_.._y.bad", bad.getFileName().toString());
        assertEquals(folder, bad.getParent(), "in the folder, nowhere else");
    }
}
