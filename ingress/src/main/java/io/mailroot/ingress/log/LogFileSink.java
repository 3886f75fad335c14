package io.mailroot.ingress.log;

import io.mailroot.core.folder.PrivateFiles;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Text log files in one folder: each entry is appended to the file its time (or, by size, the current file's size)
 * names, CRLF-ended as IIS wrote them. A file is opened for appending, so a restart continues the day's file; the
 * format's header goes at the top of every file and again each time one is reopened. Each batch is flushed, so
 * what a reader finds is at most one batch behind.
 */
final class LogFileSink implements LogSink {

    private final Path directory;
    private final LogFileFormat format;
    private final LogFileNames names;
    private BufferedWriter out;
    private Path current;
    private long size;
    private int sizeIndex;

    LogFileSink(Path directory, LogFileFormat format, LogFileNames names) {
        this.directory = directory;
        this.format = format;
        this.names = names;
    }

    @Override
    public void write(List<LogEntry> batch) throws IOException {
        try {
            for (LogEntry e : batch) {
                byte[] line = (format.line(e) + "\r\n").getBytes(StandardCharsets.US_ASCII);
                Path file = directory.resolve(names.bySize() ? sizeFile(line.length) : names.name(format, e.time()));
                if (!file.equals(current)) {
                    open(file, e.time());
                }
                out.write(new String(line, StandardCharsets.US_ASCII));
                size += line.length;
            }
            out.flush();
        } catch (IOException | RuntimeException e) {
            // reopened by the next batch; the header then marks where the gap is
            close();
            throw e;
        }
    }

    /** The size-named file the next line fits in: the last one, unless it is full. */
    private String sizeFile(int lineLength) throws IOException {
        if (sizeIndex == 0) {
            sizeIndex = Math.max(1, lastSizeIndex());
            Path last = directory.resolve(names.sizeName(format, sizeIndex));
            if (Files.exists(last) && Files.size(last) >= names.maxBytes()) {
                sizeIndex++;
            }
        } else if (current != null && size > 0 && size + lineLength > names.maxBytes()) {
            sizeIndex++;
        }
        return names.sizeName(format, sizeIndex);
    }

    private int lastSizeIndex() throws IOException {
        if (!Files.isDirectory(directory)) {
            return 0;
        }
        Pattern name = Pattern.compile(Pattern.quote(format.sizePrefix()) + "(\\d{1,9})\\.log");
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(p -> name.matcher(p.getFileName().toString())).filter(Matcher::matches)
                    .mapToInt(m -> Integer.parseInt(m.group(1))).max().orElse(0);
        }
    }

    private void open(Path file, Instant time) throws IOException {
        close();
        PrivateFiles.createFolders(directory);
        if (!Files.exists(file)) {
            // client addresses and names: 0600 like the service's other files
            PrivateFiles.createFile(file).close();
        }
        out = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(file, StandardOpenOption.APPEND, StandardOpenOption.WRITE), StandardCharsets.US_ASCII));
        current = file;
        size = Files.size(file);
        for (String h : format.header(time)) {
            out.write(h + "\r\n");
            size += h.length() + 2;
        }
    }

    @Override
    public void close() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // the next open starts afresh
            }
        }
        out = null;
        current = null;
    }
}
