package io.mailroot.core.folder;

import io.mailroot.core.message.EnvelopeCodec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Metrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The Badmail folder: messages that can be neither delivered nor returned. Each is kept as {@code ID.bad} (the
 * message as received) beside {@code ID.bdr} (why, in plain text), as IIS did.
 */
public final class Badmail {

    static final String BAD = ".bad";
    static final String BDR = ".bdr";

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
        AtomicFiles.write(dir.resolve(safe + BDR), reason.getBytes(StandardCharsets.UTF_8));
        Path bad = dir.resolve(safe + BAD);
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

    /**
     * One kept message: its name (the files' common base name), when it was kept (the {@code .bad} file's time),
     * the message's size, and its reason ({@code .bdr}; empty when the reason file is missing).
     */
    public record Entry(String name, Instant keptAt, long size, String reason) {

        /** The reason's first line: why, in a few words. */
        public String headline() {
            int nl = reason.indexOf('\n');
            return nl < 0 ? reason : reason.substring(0, nl);
        }
    }

    /** Every kept message, oldest first. */
    public List<Entry> list() throws IOException {
        List<Entry> entries = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return entries;
        }
        try (var files = Files.list(dir)) {
            for (Path bad : files.filter(p -> p.getFileName().toString().endsWith(BAD)).toList()) {
                String name = bad.getFileName().toString();
                entry(name.substring(0, name.length() - BAD.length())).ifPresent(entries::add);
            }
        }
        entries.sort(Comparator.comparing(Entry::keptAt).thenComparing(Entry::name));
        return entries;
    }

    /** The kept message of that name, if there is one; a name that is not a plain file name in the folder has none. */
    public Optional<Entry> entry(String name) throws IOException {
        if (!validName(name)) {
            return Optional.empty();
        }
        Path bad = dir.resolve(name + BAD);
        if (!Files.isRegularFile(bad, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        Path bdr = dir.resolve(name + BDR);
        String reason = Files.isRegularFile(bdr, LinkOption.NOFOLLOW_LINKS)
                ? Files.readString(bdr, StandardCharsets.UTF_8) : "";
        FileTime time = Files.getLastModifiedTime(bad, LinkOption.NOFOLLOW_LINKS);
        return Optional.of(new Entry(name, time.toInstant(), Files.size(bad), reason));
    }

    /** The kept message's bytes, as they were received. */
    public byte[] message(String name) throws IOException {
        if (!validName(name)) {
            throw new NoSuchFileException(name + BAD);
        }
        return Files.readAllBytes(dir.resolve(name + BAD));
    }

    /** Removes the message and its reason (the message first, so a listed {@code .bad} keeps its reason). */
    public boolean delete(String name) throws IOException {
        if (!validName(name)) {
            return false;
        }
        boolean deleted = Files.deleteIfExists(dir.resolve(name + BAD));
        return Files.deleteIfExists(dir.resolve(name + BDR)) | deleted;
    }

    /** A name {@link #write} could have made: no separator, no leading dot. */
    private static boolean validName(String name) {
        return name != null && !name.isEmpty() && FileNames.safe(name).equals(name);
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
