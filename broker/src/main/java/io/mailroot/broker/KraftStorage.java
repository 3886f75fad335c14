package io.mailroot.broker;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/** A KRaft log directory, formatted once (as {@code kafka-storage format} would) and reused after. */
final class KraftStorage {

    private KraftStorage() {
    }

    /** @return what the formatter printed, or null when the directory was formatted before */
    static String formatIfNew(Path logDir, int nodeId, String clusterId) throws Exception {
        if (Files.exists(logDir.resolve("meta.properties"))) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new Formatter()
                .setPrintStream(new PrintStream(out, true, StandardCharsets.UTF_8))
                .setNodeId(nodeId)
                .setClusterId(clusterId)
                .addDirectory(logDir.toAbsolutePath().toString())
                .setMetadataLogDirectory(logDir.toAbsolutePath().toString())
                .setControllerListenerName("CONTROLLER")
                .setReleaseVersion(MetadataVersion.latestProduction())
                .run();
        return out.toString(StandardCharsets.UTF_8).trim();
    }
}
