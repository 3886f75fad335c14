package io.mailroot.core.config;

import io.mailroot.core.folder.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.UUID;

/**
 * This node's name among its peers: {@code nodeId} when configured, else one generated on first start and kept in
 * {@code dataDir/node-id}. Not the host name: containers often share one, and two routers with one transactional id
 * fence each other.
 */
public final class NodeId {

    public static final String FILE = "node-id";

    private NodeId() {
    }

    public static String of(MailrootConfig config) {
        if (config.nodeId() != null) {
            return config.nodeId();
        }
        Path file = config.dataDir().resolve(FILE);
        try {
            return PrivateFiles.readOrCreate(file, () -> "node-" + UUID.randomUUID().toString().substring(0, 13));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the node id in " + file
                    + " (set nodeId in the configuration, or make dataDir writable)", e);
        }
    }
}
