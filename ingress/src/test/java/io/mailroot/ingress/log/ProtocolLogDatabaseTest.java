package io.mailroot.ingress.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database format over real sessions: SQLite in the log folder by default, and a real PostgreSQL server at
 * {@code TEST_POSTGRES_URL} (with {@code TEST_POSTGRES_USER} and {@code _PASSWORD}; .ci/run starts
 * one). Without that server the PostgreSQL test is skipped, except under CI=true, where it fails.
 */
class ProtocolLogDatabaseTest {

    private static final Instant T = Instant.parse("2026-12-03T10:30:00Z");
    private static final List<String> VERBS = List.of("CONNECT", "EHLO", "MAIL", "RCPT", "DATA", "NOOP", "FROB", "QUIT");

    @TempDir
    Path dir;

    @Test
    void sqliteByDefaultInTheLogFolder() throws Exception {
        try (LogHarness h = LogHarness.start("SQLite Log", "format: database", dir, Clock.fixed(T, ZoneOffset.UTC))) {
            h.session();
            awaitWritten(h, 8);
        }
        Path db = dir.resolve("data/logs/SMTPSVC1/smtplog.db");
        assertTrue(Files.exists(db), db.toString());
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
            checkRows(c, "mailroot_smtp_log", "2026-12-03 10:30:00");
        }
    }

    @Test
    void postgresqlWithUserAndPassword() throws Exception {
        String url = setting("TEST_POSTGRES_URL");
        if (url == null) {
            if ("true".equals(System.getenv("CI"))) {
                fail("TEST_POSTGRES_URL is not set under CI=true: .ci/run starts PostgreSQL and sets it");
            }
            Assumptions.abort("no PostgreSQL: set TEST_POSTGRES_URL (and _USER, _PASSWORD) to run this test");
        }
        String user = setting("TEST_POSTGRES_USER");
        String password = setting("TEST_POSTGRES_PASSWORD");
        String table = "mailroot_smtp_log_test_" + Long.toString(System.nanoTime(), 36);
        StringBuilder yaml = new StringBuilder("format: database\ndatabase:\n  url: \"" + url + "\"\n  table: " + table + "\n");
        if (user != null) {
            yaml.append("  user: \"").append(user).append("\"\n");
        }
        if (password != null) {
            yaml.append("  password: \"").append(password).append("\"\n");
        }
        try (LogHarness h = LogHarness.start("PostgreSQL Log", yaml.toString(), dir, Clock.fixed(T, ZoneOffset.UTC))) {
            h.session();
            awaitWritten(h, 8);
        }
        Properties p = new Properties();
        if (user != null) {
            p.setProperty("user", user);
        }
        if (password != null) {
            p.setProperty("password", password);
        }
        try (Connection c = DriverManager.getConnection(url, p)) {
            try {
                checkRows(c, table, "2026-12-03 10:30:00");
            } finally {
                try (Statement s = c.createStatement()) {
                    s.execute("DROP TABLE " + table);
                }
            }
        }
    }

    private static String setting(String name) {
        String v = System.getProperty(name, System.getenv(name));
        return v == null || v.isBlank() ? null : v;
    }

    private static void awaitWritten(LogHarness h, long n) {
        io.mailroot.testkit.Await.until(n + " rows written", java.time.Duration.ofSeconds(30),
                () -> h.log().writtenEntries() >= n || h.log().droppedEntries() > 0);
        assertEquals(0, h.log().droppedEntries(), "no entry lost");
    }

    /** The session's rows, in order, with IIS's ODBC columns. */
    private static void checkRows(Connection c, String table, String logTime) throws Exception {
        List<String> verbs = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT ClientHost, username, LogTime, service, machine, serveraddr, "
                     + "processingtime, bytesrecvd, bytessent, servicestatus, win32status, operation, target, parameters FROM "
                     + table)) {
            while (r.next()) {
                String op = r.getString("operation");
                verbs.add(op);
                assertEquals("127.0.0.1", r.getString("ClientHost"));
                assertTrue(r.getString("LogTime").startsWith(logTime), r.getString("LogTime"));
                assertEquals("SMTPSVC1", r.getString("service"));
                assertEquals("node-7", r.getString("machine"));
                assertEquals("127.0.0.1", r.getString("serveraddr"));
                assertEquals(0, r.getInt("win32status"));
                assertEquals("-", r.getString("target"));
                assertTrue(r.getLong("bytessent") > 0, op);
                int status = r.getInt("servicestatus");
                switch (op) {
                    case "CONNECT" -> {
                        assertEquals(220, status);
                        assertEquals("-", r.getString("username"));
                    }
                    case "MAIL" -> {
                        assertEquals(250, status);
                        assertEquals("client.test", r.getString("username"));
                        assertEquals("FROM:<alice@client.test>", r.getString("parameters"));
                        assertEquals("MAIL FROM:<alice@client.test>\r\n".length(), r.getLong("bytesrecvd"));
                    }
                    case "DATA" -> {
                        assertEquals(250, status);
                        assertTrue(r.getLong("bytesrecvd") > LogHarness.MESSAGE.length(), "DATA carries the message");
                    }
                    case "FROB" -> assertEquals(500, status);
                    case "QUIT" -> assertEquals(221, status);
                    default -> assertEquals(250, status, op);
                }
            }
        }
        assertEquals(VERBS, verbs);
    }
}
