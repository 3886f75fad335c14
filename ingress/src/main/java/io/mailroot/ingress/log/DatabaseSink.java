package io.mailroot.ingress.log;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.folder.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Properties;

/**
 * The {@code database} log format, IIS's ODBC logging through JDBC: one row per entry in a table with IIS's columns
 * (made if missing), each batch in one transaction. SQLite in the log folder unless a URL is configured; PostgreSQL
 * for a {@code jdbc:postgresql:} URL. LogTime is UTC. A failed batch drops the connection; the next batch connects
 * again.
 */
final class DatabaseSink implements LogSink {

    /** IIS's ODBC logging columns; strings longer than its varchar(255) are cut. */
    static final List<String> COLUMNS = List.of("ClientHost", "username", "LogTime", "service", "machine", "serveraddr",
            "processingtime", "bytesrecvd", "bytessent", "servicestatus", "win32status", "operation", "target",
            "parameters");
    private static final int TEXT = 255;
    private static final DateTimeFormatter SQLITE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    private final String url;
    private final String table;
    private final String user;
    private final String password;
    private final boolean sqlite;
    private Connection connection;
    private PreparedStatement insert;

    DatabaseSink(String url, String table, String user, String password) {
        this.url = url;
        this.table = table;
        this.user = user;
        this.password = password;
        this.sqlite = url.startsWith("jdbc:sqlite:");
    }

    /** The configured database, or SQLite's {@code smtplog.db} in the log folder. */
    static DatabaseSink of(MailrootConfig.Logging l) {
        MailrootConfig.LogDatabase db = l.database();
        String url = db.url();
        if (url == null) {
            try {
                PrivateFiles.createFolders(l.directory());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot make the log folder " + l.directory(), e);
            }
            url = "jdbc:sqlite:" + sqliteFile(l.directory());
        }
        return new DatabaseSink(url, db.table(), db.user(), db.password());
    }

    static Path sqliteFile(Path directory) {
        return directory.resolve("smtplog.db");
    }

    @Override
    public void write(List<LogEntry> batch) throws SQLException {
        try {
            PreparedStatement s = statement();
            for (LogEntry e : batch) {
                s.setString(1, text(e.clientIp()));
                s.setString(2, text(e.username()));
                LocalDateTime utc = LocalDateTime.ofInstant(e.time(), ZoneOffset.UTC);
                if (sqlite) {
                    s.setString(3, SQLITE_TIME.format(utc));
                } else {
                    s.setObject(3, utc);
                }
                s.setString(4, text(e.service()));
                s.setString(5, text(e.computer()));
                s.setString(6, text(e.serverIp()));
                s.setLong(7, e.timeTakenMs());
                s.setLong(8, e.bytesReceived());
                s.setLong(9, e.bytesSent());
                s.setInt(10, e.status());
                s.setInt(11, 0);
                s.setString(12, text(e.method()));
                s.setString(13, "-");
                s.setString(14, text(e.parameters()));
                s.addBatch();
            }
            s.executeBatch();
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private PreparedStatement statement() throws SQLException {
        if (insert == null) {
            Properties p = new Properties();
            if (user != null) {
                p.setProperty("user", user);
            }
            if (password != null) {
                p.setProperty("password", password);
            }
            connection = DriverManager.getConnection(url, p);
            try (Statement s = connection.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS " + table + " (ClientHost varchar(255), username varchar(255), "
                        + "LogTime timestamp, service varchar(255), machine varchar(255), serveraddr varchar(50), "
                        + "processingtime bigint, bytesrecvd bigint, bytessent bigint, servicestatus integer, "
                        + "win32status integer, operation varchar(255), target varchar(255), parameters varchar(255))");
            }
            connection.setAutoCommit(false);
            insert = connection.prepareStatement("INSERT INTO " + table + " (" + String.join(", ", COLUMNS)
                    + ") VALUES (" + "?, ".repeat(COLUMNS.size() - 1) + "?)");
        }
        return insert;
    }

    private static String text(String value) {
        if (value == null || value.isEmpty()) {
            return "-";
        }
        // PostgreSQL refuses NUL in text, and no control character belongs in a log column
        String clean = value.replaceAll("\\p{Cntrl}", "?");
        return clean.length() <= TEXT ? clean : clean.substring(0, TEXT);
    }

    @Override
    public void close() {
        insert = null;
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // dropped anyway
            }
            connection = null;
        }
    }
}
