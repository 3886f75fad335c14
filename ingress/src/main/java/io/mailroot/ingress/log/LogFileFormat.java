package io.mailroot.ingress.log;

import java.time.Instant;
import java.time.ZoneId;
import java.util.List;

/** A text log format as IIS 6 wrote it: its file name prefixes, the lines a file starts with, one line per entry. */
interface LogFileFormat {

    /** Of time-named files: {@code ex} in {@code exYYMMDD.log}. */
    String prefix();

    /** Of size-named files: {@code extend} in {@code extend1.log}. */
    String sizePrefix();

    /** What is written each time a file is opened for writing (W3C's directives); none for the fixed formats. */
    List<String> header(Instant now);

    /** One entry, without the line end. */
    String line(LogEntry e);

    /**
     * @param fields the W3C fields, for {@code w3c}
     * @param local the local time of the IIS and NCSA formats (W3C is always UTC)
     */
    static LogFileFormat of(String format, List<String> fields, ZoneId local) {
        return switch (format) {
            case "w3c" -> new W3cFormat(fields);
            case "iis" -> new IisFormat(local);
            case "ncsa" -> new NcsaFormat(local);
            default -> throw new IllegalArgumentException("not a file format: " + format);
        };
    }
}
