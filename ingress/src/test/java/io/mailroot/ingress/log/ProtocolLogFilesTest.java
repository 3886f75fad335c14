package io.mailroot.ingress.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.MailrootConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real SMTP sessions through the ingress role, then the log files read back line by line against each format's
 * grammar: W3C Extended (directives, then lines of the #Fields), IIS (comma-separated), NCSA Common. Rotation and
 * naming run on a clock the test moves.
 */
class ProtocolLogFilesTest {

    /** 10:30 UTC is already the next day at UTC+14. */
    private static final Instant T = Instant.parse("2026-12-03T10:30:00Z");
    private static final ZoneId KIRITIMATI = ZoneId.of("Pacific/Kiritimati");
    private static final List<String> SESSION_VERBS = List.of("CONNECT", "EHLO", "MAIL", "RCPT", "DATA", "NOOP", "FROB", "QUIT");
    private static final List<Integer> SESSION_CODES = List.of(220, 250, 250, 250, 250, 250, 500, 221);

    @TempDir
    Path dir;

    private static final Pattern IIS_LINE = Pattern.compile("([^, ]+), ([^, ]+), (\\d{2}/\\d{2}/\\d{2}), (\\d{1,2}:\\d{2}:\\d{2}), "
            + "([^, ]+), ([^, ]+), ([^, ]+), (\\d+), (\\d+), (\\d+), (\\d{3}), (\\d+), ([^, ]+), ([^, ]+), ([^, ]+), ");
    private static final Pattern NCSA_LINE = Pattern.compile(
            "(\\S+) (\\S+) (\\S+) \\[(\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4})] \"([^\"]*)\" (\\d{3}) (\\d+)");

    @Test
    void w3cWithEveryFieldFollowsItsFieldsDirective() throws Exception {
        String queued;
        try (LogHarness h = LogHarness.start("W3C Every Field", "fields: " + MailrootConfig.Logging.W3C_FIELDS, dir, new LogHarness.MovableClock(T, KIRITIMATI))) {
            queued = h.session();
            assertEquals(8, awaitWritten(h, 8));
        }
        List<String> lines = lines(dir.resolve("data/logs/SMTPSVC1/ex261203.log"));
        List<List<String>> entries = w3cEntries(lines, MailrootConfig.Logging.W3C_FIELDS);
        assertEquals(SESSION_VERBS, column(entries, "cs-method"));
        assertEquals(SESSION_CODES.stream().map(String::valueOf).toList(), column(entries, "sc-status"));
        List<String> mail = byVerb(entries, "MAIL");
        assertEquals("FROM:<alice@client.test>", field(mail, "cs-uri-query"));
        assertEquals("client.test", field(mail, "cs-username"));
        assertEquals("-", field(byVerb(entries, "CONNECT"), "cs-username"), "no HELO name before EHLO");
        assertEquals("something+odd", field(byVerb(entries, "FROB"), "cs-uri-query"), "spaces as +");
        List<String> data = byVerb(entries, "DATA");
        assertEquals(queued.substring(queued.lastIndexOf(' ') + 1), field(data, "cs-uri-query"), "DATA logs the queue id");
        assertTrue(Long.parseLong(field(data, "cs-bytes")) >= LogHarness.MESSAGE.length() + "DATA\r\n.\r\n".length(),
                "DATA's cs-bytes carry the message: " + data);
        for (List<String> e : entries) {
            assertEquals("2026-12-03", field(e, "date"), "W3C dates are UTC");
            assertEquals("10:30:00", field(e, "time"), "W3C times are UTC");
            assertEquals("127.0.0.1", field(e, "c-ip"));
            assertEquals("SMTPSVC1", field(e, "s-sitename"));
            assertEquals("node-7", field(e, "s-computername"));
            assertEquals("SMTP", field(e, "cs-version"));
            assertEquals("0", field(e, "sc-win32-status"));
            assertEquals("-", field(e, "cs(User-Agent)"));
            assertTrue(Long.parseLong(field(e, "sc-bytes")) > 0, "every entry has a reply: " + e);
        }
    }

    @Test
    void w3cDefaultFieldsAndUtcNaming() throws Exception {
        try (LogHarness h = LogHarness.start("W3C Default", "period: daily", dir, new LogHarness.MovableClock(T, KIRITIMATI))) {
            h.session();
            awaitWritten(h, 8);
        }
        // UTC naming: the 3rd, though it is the 4th at the clock's local time
        List<String> lines = lines(dir.resolve("data/logs/SMTPSVC1/ex261203.log"));
        assertEquals("#Fields: " + String.join(" ", MailrootConfig.Logging.DEFAULT_FIELDS), lines.get(3));
        assertEquals(SESSION_VERBS, column(w3cEntries(lines, MailrootConfig.Logging.DEFAULT_FIELDS), "cs-method"));
    }

    @Test
    void localTimeNamingNamesFilesByTheLocalDayButW3cTimesStayUtc() throws Exception {
        try (LogHarness h = LogHarness.start("W3C Local", "localTimeNaming: true", dir, new LogHarness.MovableClock(T, KIRITIMATI))) {
            h.session();
            awaitWritten(h, 8);
        }
        assertEquals(List.of("ex261204.log"), fileNames(dir.resolve("data/logs/SMTPSVC1")));
        List<List<String>> entries = w3cEntries(lines(dir.resolve("data/logs/SMTPSVC1/ex261204.log")),
                MailrootConfig.Logging.DEFAULT_FIELDS);
        assertEquals(List.of("10:30:00"), column(entries, "time").stream().distinct().toList());
    }

    @Test
    void iisFormatFollowsTheCommaGrammarInLocalTime() throws Exception {
        try (LogHarness h = LogHarness.start("IIS Format", "format: iis\nlocalTimeNaming: true", dir,
                new LogHarness.MovableClock(T, KIRITIMATI))) {
            h.session();
            awaitWritten(h, 8);
        }
        List<String> lines = lines(dir.resolve("data/logs/SMTPSVC1/in261204.log"));
        List<String> verbs = new ArrayList<>();
        List<Integer> codes = new ArrayList<>();
        for (String line : lines) {
            Matcher m = IIS_LINE.matcher(line);
            assertTrue(m.matches(), "IIS log line: " + line);
            assertEquals("127.0.0.1", m.group(1));
            assertEquals("12/04/26", m.group(3), "IIS format dates are local");
            assertEquals("0:30:00", m.group(4), "IIS format times are local");
            assertEquals("SMTPSVC1", m.group(5));
            assertEquals("node-7", m.group(6));
            assertEquals("127.0.0.1", m.group(7));
            assertEquals("0", m.group(12));
            assertEquals("-", m.group(14));
            verbs.add(m.group(13));
            codes.add(Integer.parseInt(m.group(11)));
            if (m.group(13).equals("MAIL")) {
                assertEquals("client.test", m.group(2));
                assertEquals("FROM:<alice@client.test>", m.group(15));
                assertTrue(Long.parseLong(m.group(9)) >= "MAIL FROM:<alice@client.test>\r\n".length(), line);
            }
        }
        assertEquals(SESSION_VERBS, verbs);
        assertEquals(SESSION_CODES, codes);
    }

    @Test
    void ncsaFormatFollowsTheCommonLogGrammar() throws Exception {
        try (LogHarness h = LogHarness.start("NCSA Format", "format: ncsa", dir, new LogHarness.MovableClock(T, KIRITIMATI))) {
            h.session();
            awaitWritten(h, 8);
        }
        List<String> lines = lines(dir.resolve("data/logs/SMTPSVC1/nc261203.log"));
        List<String> verbs = new ArrayList<>();
        List<Integer> codes = new ArrayList<>();
        for (String line : lines) {
            Matcher m = NCSA_LINE.matcher(line);
            assertTrue(m.matches(), "NCSA log line: " + line);
            assertEquals("127.0.0.1", m.group(1));
            assertEquals("-", m.group(2));
            assertEquals("04/Dec/2026:00:30:00 +1400", m.group(4), "NCSA times are local with their offset");
            assertTrue(m.group(5).endsWith(" SMTP"), line);
            verbs.add(m.group(5).split(" ")[0]);
            codes.add(Integer.parseInt(m.group(6)));
        }
        assertEquals(SESSION_VERBS, verbs);
        assertEquals(SESSION_CODES, codes);
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"MAIL FROM:<alice@client.test> SMTP\" 250 ")), lines.toString());
    }

    @Test
    void hourlyFilesRollOverOnTheHourEachWithItsHeader() throws Exception {
        LogHarness.MovableClock clock = new LogHarness.MovableClock(Instant.parse("2026-12-03T10:59:59Z"), ZoneOffset.UTC);
        try (LogHarness h = LogHarness.start("Hourly", "period: hourly", dir, clock)) {
            h.session();
            awaitWritten(h, 8);
            clock.set(Instant.parse("2026-12-03T11:00:00Z"));
            h.session();
            awaitWritten(h, 16);
        }
        Path folder = dir.resolve("data/logs/SMTPSVC1");
        assertEquals(List.of("ex26120310.log", "ex26120311.log"), fileNames(folder));
        for (String name : List.of("ex26120310.log", "ex26120311.log")) {
            List<List<String>> entries = w3cEntries(lines(folder.resolve(name)), MailrootConfig.Logging.DEFAULT_FIELDS);
            assertEquals(SESSION_VERBS, column(entries, "cs-method"), name);
        }
    }

    @Test
    void sizeFilesStartTheNextOneAtMaxSizeAndARestartContinuesTheLast() throws Exception {
        LogHarness.MovableClock clock = new LogHarness.MovableClock(T, ZoneOffset.UTC);
        Path folder = dir.resolve("data/logs/SMTPSVC1");
        try (LogHarness h = LogHarness.start("By Size", "period: size\nmaxSizeKb: 1", dir, clock)) {
            h.noops(2);
            awaitWritten(h, 5);
        }
        assertEquals(List.of("extend1.log"), fileNames(folder), "5 entries fit in 1 KB");
        try (LogHarness h = LogHarness.start("By Size", "period: size\nmaxSizeKb: 1", dir, clock)) {
            h.noops(30);
            awaitWritten(h, 33);
        }
        List<String> after = fileNames(folder);
        assertTrue(after.size() >= 3, "38 entries of about 100 octets in files of 1 KB: " + after);
        assertEquals(2, lines(folder.resolve("extend1.log")).stream().filter(l -> l.startsWith("#Software: ")).count(),
                "the restart went on in extend1.log, with a header of its own");
        int entries = 0;
        for (int n = 1; n <= after.size(); n++) {
            Path file = folder.resolve("extend" + n + ".log");
            assertTrue(Files.exists(file), "numbered without gaps: " + after);
            assertTrue(Files.size(file) <= 1024, file + " is " + Files.size(file) + " octets");
            List<String> lines = lines(file);
            assertTrue(lines.get(0).startsWith("#Software: "), file + " starts with its header");
            entries += w3cEntries(lines, MailrootConfig.Logging.DEFAULT_FIELDS).size();
        }
        assertEquals(38, entries, "every entry of both runs, in " + after);
    }

    private static int awaitWritten(LogHarness h, long n) {
        io.mailroot.testkit.Await.until(n + " entries written", java.time.Duration.ofSeconds(20),
                () -> h.log().writtenEntries() >= n);
        return (int) h.log().writtenEntries();
    }

    /**
     * The entries of a W3C file as field lists: the file must start with the four directives, and every line that is
     * not a directive must have a value of the right form for each field of the last #Fields.
     */
    static List<List<String>> w3cEntries(List<String> lines, List<String> expectedFields) {
        assertTrue(lines.size() > 4, "a header and entries: " + lines);
        assertEquals("#Software: Mailroot SMTP", lines.get(0));
        assertEquals("#Version: 1.0", lines.get(1));
        assertTrue(lines.get(2).matches("#Date: \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}"), lines.get(2));
        assertTrue(lines.get(3).startsWith("#Fields: "), lines.get(3));
        List<List<String>> entries = new ArrayList<>();
        Pattern grammar = null;
        for (String line : lines) {
            if (line.startsWith("#")) {
                if (line.startsWith("#Fields: ")) {
                    List<String> fields = List.of(line.substring("#Fields: ".length()).split(" "));
                    assertEquals(expectedFields, fields);
                    grammar = Pattern.compile(String.join(" ", fields.stream().map(ProtocolLogFilesTest::valueForm).toList()));
                }
                continue;
            }
            assertTrue(grammar != null && grammar.matcher(line).matches(), "W3C line of the #Fields: " + line);
            entries.add(List.of(line.split(" ")));
        }
        return entries;
    }

    private static String valueForm(String field) {
        return switch (field) {
            case "date" -> "\\d{4}-\\d{2}-\\d{2}";
            case "time" -> "\\d{2}:\\d{2}:\\d{2}";
            case "s-port", "sc-status", "sc-win32-status", "sc-bytes", "cs-bytes", "time-taken" -> "\\d+";
            case "c-ip", "s-ip" -> "[0-9a-fA-F.:]+";
            default -> "[\\x21-\\x7E]+";
        };
    }

    private static List<String> column(List<List<String>> entries, String field) {
        return entries.stream().map(e -> field(e, field)).toList();
    }

    private static List<String> byVerb(List<List<String>> entries, String verb) {
        return entries.stream().filter(e -> field(e, "cs-method").equals(verb)).findFirst().orElseThrow();
    }

    /** A field of an entry by name; the entry's fields are every W3C field or the default ones. */
    private static String field(List<String> entry, String name) {
        List<String> fields = entry.size() == MailrootConfig.Logging.W3C_FIELDS.size()
                ? MailrootConfig.Logging.W3C_FIELDS : MailrootConfig.Logging.DEFAULT_FIELDS;
        return entry.get(fields.indexOf(name));
    }

    static List<String> lines(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        assertTrue(text.endsWith("\r\n"), file + " ends with CRLF");
        return List.of(text.substring(0, text.length() - 2).split("\r\n", -1));
    }

    private static List<String> fileNames(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
