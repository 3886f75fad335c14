package io.mailroot.core.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;

/**
 * How many files the Badmail folder holds and their bytes, as {@code mailroot_badmail_files} and
 * {@code mailroot_badmail_bytes}. Listing a folder on shared storage costs, and Badmail changes rarely, so the folder
 * is listed only when a scrape asks and the last listing is older than {@link #EVERY}.
 */
final class BadmailSize implements MeterBinder {

    static final Duration EVERY = Duration.ofSeconds(30);

    /** One listing: files and bytes. */
    record Listing(long files, long bytes, long atNanos) {
    }

    private final Path dir;
    private final long everyNanos;
    private Listing last;

    BadmailSize(Path dir, Duration every) {
        this.dir = dir;
        this.everyNanos = every.toNanos();
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("mailroot.badmail.files", this, b -> b.current().files())
                .description("Files in the Badmail folder (.bad messages and .bdr reasons), listed at most every 30 s")
                .strongReference(true).register(registry);
        Gauge.builder("mailroot.badmail.bytes", this, b -> b.current().bytes())
                .description("Bytes of the files in the Badmail folder, listed at most every 30 s")
                .baseUnit("bytes").strongReference(true).register(registry);
    }

    synchronized Listing current() {
        long now = System.nanoTime();
        if (last == null || now - last.atNanos() >= everyNanos) {
            last = list(now);
        }
        return last;
    }

    private Listing list(long now) {
        long files = 0;
        long bytes = 0;
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                for (Path p : entries) {
                    try {
                        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                        if (a.isRegularFile()) {
                            files++;
                            bytes += a.size();
                        }
                    } catch (IOException e) {
                        // gone between listing and reading (a temp file renamed): not counted
                    }
                }
            } catch (IOException e) {
                return last != null ? new Listing(last.files(), last.bytes(), now) : new Listing(0, 0, now);
            }
        }
        return new Listing(files, bytes, now);
    }
}
