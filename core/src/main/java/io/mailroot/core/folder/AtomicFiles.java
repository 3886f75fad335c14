package io.mailroot.core.folder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so that a reader sees all of it or none of it, and a crash leaves no half file under its name. The
 * file is private to the service ({@link PrivateFiles}: 0600, in folders made 0700), from its temporary name on.
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    public static void write(Path target, byte[]... parts) throws IOException {
        Path dir = target.getParent();
        PrivateFiles.createFolders(dir);
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp");
        // A temporary file left by a crash is made anew, so that its mode is ours and nobody holds it open.
        Files.deleteIfExists(tmp);
        try (FileChannel ch = PrivateFiles.createFile(tmp)) {
            for (byte[] part : parts) {
                ByteBuffer b = ByteBuffer.wrap(part);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        fsyncDirectory(dir);
    }

    private static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some platforms cannot open a directory for sync; the rename is still atomic there.
        }
    }
}
