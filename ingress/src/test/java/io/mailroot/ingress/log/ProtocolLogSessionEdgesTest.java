package io.mailroot.ingress.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.ingress.auth.UserStore;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SmtpTestClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a log must and must not hold: AUTH without its credentials, client text that cannot forge or colour a line,
 * and the 421 the server sends unasked when a client idles.
 */
class ProtocolLogSessionEdgesTest {

    private static final Instant T = Instant.parse("2026-12-03T10:30:00Z");

    @TempDir
    Path dir;

    @Test
    void authLogsItsMechanismNeverTheCredentialAndClientTextIsEscaped() throws Exception {
        UserStore.empty(dir.resolve("users")).put("carol@example.com", "s3cret-Pass".toCharArray(), 1000);
        String initial = Base64.getEncoder().encodeToString("\0carol@example.com\0s3cret-Pass".getBytes(StandardCharsets.UTF_8));
        try (LogHarness h = LogHarness.start("Auth Log", "{}", dir, new LogHarness.MovableClock(T, ZoneOffset.UTC), """
                tls: { enabled: false }
                authentication: { basic: true, allowAuthWithoutTls: true }
                """)) {
            try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", h.port)) {
                SmtpTestClient.expect(c.command("EHLO evil\u001b[2J.test"), "250");
                SmtpTestClient.expect(c.command("AUTH PLAIN " + initial), "235");
                SmtpTestClient.expect(c.command("AUTH LOGIN"), "503");
                SmtpTestClient.expect(c.command("QUIT"), "221");
            }
            try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", h.port)) {
                SmtpTestClient.expect(c.command("EHLO client.test"), "250");
                SmtpTestClient.expect(c.command("AUTH LOGIN"), "334");
                SmtpTestClient.expect(c.command(Base64.getEncoder().encodeToString("carol@example.com".getBytes())), "334");
                SmtpTestClient.expect(c.command(Base64.getEncoder().encodeToString("wrong-Pass".getBytes())), "535");
                SmtpTestClient.expect(c.command("QUIT"), "221");
            }
            Await.until("9 entries", Duration.ofSeconds(20), () -> h.log().writtenEntries() >= 9);
        }
        String text = Files.readString(dir.resolve("data/logs/SMTPSVC1/ex261203.log"), StandardCharsets.US_ASCII);
        List<List<String>> entries = ProtocolLogFilesTest.w3cEntries(List.of(text.split("\r\n")),
                MailrootConfig.Logging.DEFAULT_FIELDS);
        int verb = MailrootConfig.Logging.DEFAULT_FIELDS.indexOf("cs-method");
        int query = MailrootConfig.Logging.DEFAULT_FIELDS.indexOf("cs-uri-query");
        int status = MailrootConfig.Logging.DEFAULT_FIELDS.indexOf("sc-status");
        int user = MailrootConfig.Logging.DEFAULT_FIELDS.indexOf("cs-username");
        List<String> auths = entries.stream().filter(e -> e.get(verb).equals("AUTH"))
                .map(e -> e.get(query) + " " + e.get(status)).toList();
        assertEquals(List.of("PLAIN 235", "LOGIN 503", "LOGIN 535"), auths, "one entry per AUTH exchange, the 334s inside it");
        assertFalse(text.contains(initial) || text.contains("s3cret") || text.contains(
                Base64.getEncoder().encodeToString("wrong-Pass".getBytes())), "no credential in the log:\n" + text);
        assertTrue(entries.stream().anyMatch(e -> e.get(user).equals("evil%1B[2J.test")), text);
        assertFalse(text.contains("\u001b"), "no escape sequence reaches the file");
    }

    @Test
    void anIdleClientsClosingReplyIsLogged() throws Exception {
        try (LogHarness h = LogHarness.start("Idle Log", "{}", dir, new LogHarness.MovableClock(T, ZoneOffset.UTC),
                "connectionTimeout: 1s")) {
            try (SmtpTestClient c = new SmtpTestClient("127.0.0.1", h.port)) {
                SmtpTestClient.expect(c.command("EHLO client.test"), "250");
                SmtpTestClient.expect(c.reply(), "421 4.4.2");
            }
            Await.until("3 entries", Duration.ofSeconds(20), () -> h.log().writtenEntries() >= 3);
        }
        List<String> lines = List.of(Files.readString(dir.resolve("data/logs/SMTPSVC1/ex261203.log")).split("\r\n"));
        List<List<String>> entries = ProtocolLogFilesTest.w3cEntries(lines, MailrootConfig.Logging.DEFAULT_FIELDS);
        int verb = MailrootConfig.Logging.DEFAULT_FIELDS.indexOf("cs-method");
        int status = MailrootConfig.Logging.DEFAULT_FIELDS.indexOf("sc-status");
        assertEquals(List.of("CONNECT 220", "EHLO 250", "CLOSE 421"),
                entries.stream().map(e -> e.get(verb) + " " + e.get(status)).toList());
    }
}
