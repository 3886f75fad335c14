package io.mailroot.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What arrived: the sink's file (one X-Test-Id per delivery, appended) and the Drop folder (one {@code <id>.eml}
 * per local message, whose X-Test-Id header is read once). Read incrementally, so it can be polled.
 */
final class Deliveries {

    private static final String HEADER = "x-test-id:";

    private final Path sinkFile;
    private final Path drop;
    private long sinkOffset;
    private final StringBuilder partialLine = new StringBuilder();
    private final Set<String> dropFilesSeen = new HashSet<>();
    private final Map<String, Integer> remote = new HashMap<>();
    private final Map<String, Integer> local = new HashMap<>();
    private int deliveries;
    private int withoutId;

    Deliveries(Path sinkFile, Path drop) {
        this.sinkFile = sinkFile;
        this.drop = drop;
    }

    synchronized int refresh() {
        readSink();
        readDrop();
        return deliveries;
    }

    synchronized int deliveries() {
        return deliveries;
    }

    /** How often each id arrived, remote and local together. */
    synchronized Map<String, Integer> counts() {
        Map<String, Integer> all = new HashMap<>(remote);
        local.forEach((id, n) -> all.merge(id, n, Integer::sum));
        return all;
    }

    synchronized int remoteDeliveries() {
        return remote.values().stream().mapToInt(Integer::intValue).sum();
    }

    synchronized int localDeliveries() {
        return local.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Deliveries that carried no X-Test-Id: reports (NDRs) or anything else not sent by the load. */
    synchronized int withoutId() {
        return withoutId;
    }

    private void readSink() {
        if (!Files.exists(sinkFile)) {
            return;
        }
        try (RandomAccessFile f = new RandomAccessFile(sinkFile.toFile(), "r")) {
            long length = f.length();
            if (length <= sinkOffset) {
                return;
            }
            byte[] bytes = new byte[(int) (length - sinkOffset)];
            f.seek(sinkOffset);
            f.readFully(bytes);
            sinkOffset = length;
            partialLine.append(new String(bytes, StandardCharsets.US_ASCII));
            int nl;
            while ((nl = partialLine.indexOf("\n")) >= 0) {
                String id = partialLine.substring(0, nl).strip();
                partialLine.delete(0, nl + 1);
                count(remote, id);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void readDrop() {
        if (!Files.isDirectory(drop)) {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(drop, "*.eml")) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (dropFilesSeen.add(name)) {
                    count(local, testId(file));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void count(Map<String, Integer> where, String id) {
        deliveries++;
        if (id == null || id.isEmpty() || id.equals("-")) {
            withoutId++;
        } else {
            where.merge(id, 1, Integer::sum);
        }
    }

    /** The X-Test-Id of the message's own header block (not of a message quoted in a report). */
    private static String testId(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file);
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1))) {
            String line;
            while ((line = r.readLine()) != null && !line.isEmpty()) {
                if (line.regionMatches(true, 0, HEADER, 0, HEADER.length())) {
                    return line.substring(HEADER.length()).strip();
                }
            }
            return null;
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
