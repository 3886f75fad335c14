package io.mailroot.core.folder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Supplier;

/**
 * Small state files only this service's user may read (0600 in a 0700 folder, whatever the umask): the node id, the
 * embedded broker's secret. On a file system without POSIX permissions the files are written without them.
 */
public final class PrivateFiles {

    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private PrivateFiles() {
    }

    /** Creates {@code dir} and missing parents; a folder it creates is 0700. */
    public static Path directories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return dir;
        }
        Path parent = dir.toAbsolutePath().getParent();
        if (parent != null) {
            directories(parent);
        }
        try {
            return POSIX ? Files.createDirectory(dir, attribute("rwx------")) : Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            return dir;
        }
    }

    /**
     * The text kept in {@code file} (trimmed); when there is none yet, {@code value} written there first, as a whole
     * (temp file, then rename), mode 0600, so every later call and every restart reads the same.
     */
    public static String readOrCreate(Path file, Supplier<String> value) throws IOException {
        if (Files.exists(file)) {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        }
        directories(file.toAbsolutePath().getParent());
        String v = value.get();
        Path tmp = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        Files.deleteIfExists(tmp);
        if (POSIX) {
            Files.createFile(tmp, attribute("rw-------"));
        } else {
            Files.createFile(tmp);
        }
        Files.writeString(tmp, v + "\n", StandardCharsets.UTF_8);
        try {
            // No REPLACE_EXISTING: should another process have won the race, its value stands.
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(tmp);
        }
        return Files.readString(file, StandardCharsets.UTF_8).trim();
    }

    private static FileAttribute<?> attribute(String mode) {
        return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode));
    }
}
