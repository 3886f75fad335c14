package io.mailroot.core.folder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Badmail folder: messages that can be neither delivered nor returned. Each is kept as {@code ID.bad} (the
 * message as received) beside {@code ID.bdr} (why, in plain text), as IIS did.
 */
public final class Badmail {

    private final Path dir;

    public Badmail(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** Writes the reason first, then the message, so a listed {@code .bad} always has its reason beside it. */
    public Path write(String id, byte[] message, String reason) throws IOException {
        String safe = FileNames.safe(id);
        AtomicFiles.write(dir.resolve(safe + ".bdr"), reason.getBytes(StandardCharsets.UTF_8));
        Path bad = dir.resolve(safe + ".bad");
        AtomicFiles.write(bad, message);
        return bad;
    }

    /** Total size in bytes of the folder's files, for the size warning. */
    public long size() throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var files = Files.list(dir)) {
            return files.mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
