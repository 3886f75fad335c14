package io.mailroot.core.folder;

import io.mailroot.core.message.EnvelopeCodec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Metrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The Badmail folder: messages that can be neither delivered nor returned. Each is kept as {@code ID.bad} (the
 * message as received) beside {@code ID.bdr} (why, in plain text), as IIS did.
 */
public final class Badmail {

    /** Every role's Badmail entries, counted where they are all written. */
    private static final Counter ENTRIES = Counter.builder("mailroot.badmail.entries")
            .description("Messages put in the Badmail folder (neither deliverable nor returnable, or unreadable)")
            .register(Metrics.globalRegistry);

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
        ENTRIES.increment();
        return bad;
    }

    /**
     * Keeps a record whose envelope cannot be read, as {@code malformed-<topic>-<partition>-<offset>}: nobody can be
     * told about it, but it must neither vanish nor block its partition.
     */
    public Path keepMalformed(ConsumerRecord<String, byte[]> record, Exception e) throws IOException {
        String place = record.topic() + "-" + record.partition() + "-" + record.offset();
        Header header = record.headers().lastHeader(EnvelopeCodec.HEADER);
        String reason = "Malformed record on " + place + ": its envelope cannot be read, so nobody can be told about"
                + " it.\n\nError: " + e.getMessage() + "\nKey: " + record.key() + "\nEnvelope header: "
                + (header == null ? "(none)" : new String(header.value(), StandardCharsets.UTF_8)) + "\n";
        return write("malformed-" + place, record.value() == null ? new byte[0] : record.value(), reason);
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
