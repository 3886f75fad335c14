package io.mailroot.core.folder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Files and folders only the service's own user may read: what Mailroot keeps holds mail, password hashes and
 * keys. A file is 0600 and a folder 0700 from the moment it exists, whatever the process umask (the mode is set
 * again after the create, since a umask can take bits from the create mode). A folder that already exists keeps
 * the mode its owner gave it. On a file system without POSIX permissions (Windows) files are made as usual.
 */
public final class PrivateFiles {

    public static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    public static final Set<PosixFilePermission> FOLDER_MODE = PosixFilePermissions.fromString("rwx------");

    private PrivateFiles() {
    }

    /** Makes the folder and each missing parent, 0700; what exists is left as it is. */
    public static Path createFolders(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            return dir;
        }
        Path parent = abs.getParent();
        if (parent != null) {
            createFolders(parent);
        }
        try {
            if (posix(abs)) {
                Files.createDirectory(abs, PosixFilePermissions.asFileAttribute(FOLDER_MODE));
                Files.setPosixFilePermissions(abs, FOLDER_MODE);
            } else {
                Files.createDirectory(abs);
            }
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(abs)) {
                throw e;
            }
            // made meanwhile by another thread or process: theirs, as it is
        }
        return dir;
    }

    /** Creates a new file (it must not exist) 0600 and opens it for writing. */
    public static FileChannel createFile(Path file) throws IOException {
        if (!posix(file)) {
            return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }
        FileAttribute<Set<PosixFilePermission>> mode = PosixFilePermissions.asFileAttribute(FILE_MODE);
        FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), mode);
        try {
            Files.setPosixFilePermissions(file, FILE_MODE);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return ch;
    }

    /**
     * The text kept in {@code file} (trimmed); when there is none yet, {@code value} is written there first, as a
     * whole (temp file, then rename), mode 0600, so every later call and every restart reads the same: the node id,
     * the embedded broker's secret.
     */
    public static String readOrCreate(Path file, Supplier<String> value) throws IOException {
        if (Files.exists(file)) {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        }
        createFolders(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel ch = createFile(tmp)) {
            ch.write(ByteBuffer.wrap((value.get() + "\n").getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        try {
            // No REPLACE_EXISTING: should another process have won the race, its value stands.
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(tmp);
        }
        return Files.readString(file, StandardCharsets.UTF_8).trim();
    }

    private static boolean posix(Path p) {
        return p.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
