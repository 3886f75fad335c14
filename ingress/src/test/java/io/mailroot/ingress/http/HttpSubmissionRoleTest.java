package io.mailroot.ingress.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.FreePorts;
import io.mailroot.testkit.SharedKafka;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The HTTP submission API over real loopback HTTP against the shared embedded broker. */
class HttpSubmissionRoleTest {

    private static final String KEY = "test-key-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    private static Topics topics;
    private static HttpSubmissionRole role;
    private static URI base;
    private static KafkaConsumer<String, byte[]> inbound;
    private static final Map<String, MailRecord> queued = new HashMap<>();
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @BeforeAll
    static void start() throws Exception {
        String bootstrap = SharedKafka.bootstrap();
        String prefix = SharedKafka.uniquePrefix("http");
        topics = new Topics(prefix, 2);
        KafkaClients clients = new KafkaClients(bootstrap, prefix);
        TopicCreator.ensure(bootstrap, topics, 3, (short) 1);
        int port = FreePorts.next();
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                localDomains: [local.test]
                http:
                  enabled: true
                  addresses: [127.0.0.1]
                  port: %d
                  apiKeys: [%s]
                  maxRequestKb: 64
                  forms:
                    signup: { to: sales@local.test, subject: New sign-up, redirect: "https://www.example.test/thanks" }
                    contact: { to: info@local.test, from: web@local.test }
                """.formatted(port, KEY), dir);
        role = new HttpSubmissionRole(config, clients, topics);
        role.start();
        base = URI.create("http://127.0.0.1:" + port);
        inbound = clients.consumer("check", "check");
        List<TopicPartition> partitions = inbound.partitionsFor(topics.inbound()).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        inbound.assign(partitions);
        inbound.seekToBeginning(partitions);
    }

    @AfterAll
    static void stop() {
        role.close();
        inbound.close();
    }

    private static HttpResponse<String> post(String path, String contentType, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(WAIT)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> postJson(String body) throws Exception {
        return post("/api/v1/messages", "application/json; charset=utf-8", body, KEY);
    }

    private static MailRecord queued(String id) {
        Await.until("record " + id + " in " + topics.inbound(), WAIT, () -> {
            for (ConsumerRecord<String, byte[]> r : inbound.poll(Duration.ofMillis(100))) {
                queued.put(r.key(), EnvelopeCodec.fromRecord(r));
            }
            return queued.containsKey(id);
        });
        return queued.get(id);
    }

    private static MimeMessage parse(MailRecord m) throws Exception {
        return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(m.message()));
    }

    private static List<String> recipients(MailRecord m) {
        return m.envelope().recipients().stream().map(Recipient::address).toList();
    }

    @Test
    void queuesAComposedMessageAndAnswers202WithItsId() throws Exception {
        byte[] pdf = "%PDF-1.4 not really a pdf \u0000\u0001\u00ff".getBytes(StandardCharsets.ISO_8859_1);
        String body = """
                {"from": "Web Shop <shop@client.test>",
                 "to": ["bob@local.test", "Carol <carol@remote.test>"],
                 "cc": ["dave@local.test"],
                 "bcc": ["eve@hidden.test"],
                 "subject": "Your order – confirmed",
                 "text": "Thank you for your order.",
                 "html": "<p>Thank you for your <b>order</b>.</p>",
                 "importance": "high",
                 "headers": {"X-Campaign": "autumn"},
                 "attachments": [{"filename": "invoice.pdf", "contentType": "application/pdf", "contentBase64": "%s"}]}
                """.formatted(Base64.getEncoder().encodeToString(pdf));
        HttpResponse<String> r = postJson(body);

        assertEquals(202, r.statusCode(), r.body());
        JsonNode answer = JSON.readTree(r.body());
        assertEquals("queued", answer.get("status").asText());
        String id = answer.get("id").asText();
        MailRecord m = queued(id);
        assertEquals("shop@client.test", m.envelope().sender());
        assertEquals(List.of("bob@local.test", "carol@remote.test", "dave@local.test", "eve@hidden.test"), recipients(m),
                "to, cc and bcc, remote ones too: the key authorises relaying");
        assertEquals("http", m.envelope().virtualServer());
        assertEquals("127.0.0.1", m.envelope().clientAddress());
        String text = new String(m.message(), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("Received: from [127.0.0.1] by relay.test (Mailroot) with HTTP id " + id + ";\r\n"), text);
        assertFalse(text.contains("hidden.test"), "Bcc is in the envelope only");

        MimeMessage mail = parse(m);
        assertEquals("Web Shop <shop@client.test>", mail.getFrom()[0].toString());
        assertEquals(2, mail.getRecipients(jakarta.mail.Message.RecipientType.TO).length);
        assertEquals("dave@local.test", mail.getRecipients(jakarta.mail.Message.RecipientType.CC)[0].toString());
        assertNull(mail.getHeader("Bcc"));
        assertEquals("Your order – confirmed", mail.getSubject());
        assertEquals("High", mail.getHeader("Importance", null));
        assertEquals("1 (Highest)", mail.getHeader("X-Priority", null));
        assertEquals("autumn", mail.getHeader("X-Campaign", null));
        assertEquals("<" + id + "@relay.test>", mail.getMessageID());
        assertTrue(mail.getSentDate() != null);

        assertTrue(mail.isMimeType("multipart/mixed"), mail.getContentType());
        Multipart mixed = (Multipart) mail.getContent();
        assertEquals(2, mixed.getCount());
        Part alternative = mixed.getBodyPart(0);
        assertTrue(alternative.isMimeType("multipart/alternative"), alternative.getContentType());
        Multipart parts = (Multipart) alternative.getContent();
        assertTrue(parts.getBodyPart(0).isMimeType("text/plain"));
        assertEquals("Thank you for your order.", parts.getBodyPart(0).getContent());
        assertTrue(parts.getBodyPart(1).isMimeType("text/html"));
        assertEquals("<p>Thank you for your <b>order</b>.</p>", parts.getBodyPart(1).getContent());
        Part attachment = mixed.getBodyPart(1);
        assertEquals(Part.ATTACHMENT, attachment.getDisposition());
        assertEquals("invoice.pdf", attachment.getFileName());
        assertTrue(attachment.isMimeType("application/pdf"));
        assertArrayEquals(pdf, attachment.getInputStream().readAllBytes());
    }

    @Test
    void aTextOnlyMessageIsSinglePart() throws Exception {
        HttpResponse<String> r = postJson("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"Hi\\nLine two\\rLine three\"}");
        assertEquals(202, r.statusCode(), r.body());
        MailRecord m = queued(JSON.readTree(r.body()).get("id").asText());
        MimeMessage mail = parse(m);
        assertTrue(mail.isMimeType("text/plain"), mail.getContentType());
        assertEquals("Hi\r\nLine two\r\nLine three", mail.getContent());
        assertNull(mail.getHeader("Importance"));
        String text = new String(m.message(), StandardCharsets.UTF_8);
        assertFalse(text.replace("\r\n", "").contains("\n") || text.replace("\r\n", "").contains("\r"),
                "no bare LF or CR goes out over SMTP");
    }

    @Test
    void addressesAreQueuedInTheFormRcptToGivesThem() throws Exception {
        HttpResponse<String> r = postJson("{\"from\": \"Alice <Alice@Client.TEST>\", \"to\": [\"Bob <Bob@LOCAL.Test>\"], "
                + "\"cc\": [\"bob@local.test\"], \"text\": \"x\"}");
        assertEquals(202, r.statusCode(), r.body());
        MailRecord m = queued(JSON.readTree(r.body()).get("id").asText());
        assertEquals("Alice@client.test", m.envelope().sender());
        assertEquals(List.of("Bob@local.test"), recipients(m));
        assertEquals("Bob <Bob@local.test>", parse(m).getRecipients(jakarta.mail.Message.RecipientType.TO)[0].toString());
    }

    static Stream<Arguments> badBodies() {
        return Stream.of(
                Arguments.of("{\"to\": [\"b@local.test\"], \"text\": \"x\"}", "from"),
                Arguments.of("{\"from\": \"not an address\", \"to\": [\"b@local.test\"], \"text\": \"x\"}", "from"),
                Arguments.of("{\"from\": \"a@client.test\", \"text\": \"x\"}", "to"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [], \"cc\": [], \"text\": \"x\"}", "to"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\", \"b@@local.test\"], \"text\": \"x\"}", "to[1]"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"cc\": [\"nodomain\"], \"text\": \"x\"}", "cc[0]"),
                Arguments.of("{\"from\": \"a@client.test\", \"bcc\": [\"b@local.test\", 7], \"text\": \"x\"}", "bcc[1]"),
                // well-formed for RFC 5322, refused by RCPT TO's reading: a bad domain label, an overlong local part
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\", \"b@-bad.test\"], \"text\": \"x\"}", "to[1]"),
                Arguments.of("{\"from\": \"%s@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\"}".formatted("a".repeat(65)), "from"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"]}", "text"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\", \"importance\": \"urgent\"}", "importance"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\", \"subject\": \"a\\r\\nBcc: c@evil.test\"}", "subject"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\", \"headers\": {\"X-A\": \"v\\r\\nBcc: c@evil.test\"}}", "headers.X-A"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\", \"headers\": {\"X-A\\r\\nBcc\": \"v\"}}", "headers.X-A\r\nBcc"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\", \"headers\": {\"bcc\": \"c@evil.test\"}}", "headers.bcc"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\", \"headers\": {\"Received\": \"forged\"}}", "headers.Received"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\", \"attachments\": [{\"filename\": \"a.bin\", \"contentBase64\": \"not*base64!\"}]}", "attachments[0].contentBase64"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\", \"attachments\": [{\"contentBase64\": \"AAAA\"}]}", "attachments[0].filename"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\", \"attachment\": []}", "attachment"),
                Arguments.of("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": ", null),
                Arguments.of("[1, 2]", null));
    }

    @ParameterizedTest
    @MethodSource("badBodies")
    void aBadBodyGets400NamingTheField(String body, String field) throws Exception {
        HttpResponse<String> r = postJson(body);
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode error = JSON.readTree(r.body());
        assertFalse(error.get("error").asText().isBlank());
        assertEquals(field, error.hasNonNull("field") ? error.get("field").asText() : null, r.body());
    }

    @Test
    void withoutAValidKeyTheAnswerIs401() throws Exception {
        String body = "{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\"}";
        for (String key : new String[] {null, "wrong-key-0123456789abcdef", KEY + "x", KEY.substring(1)}) {
            HttpResponse<String> r = post("/api/v1/messages", "application/json", body, key);
            assertEquals(401, r.statusCode(), "key " + key);
            assertTrue(JSON.readTree(r.body()).has("error"));
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
        }
    }

    @Test
    void aBodyOverMaxRequestKbIs413() throws Exception {
        String big = "x".repeat(70 * 1024);
        HttpResponse<String> r = postJson("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"" + big + "\"}");
        assertEquals(413, r.statusCode(), r.body());
        String fits = "x".repeat(60 * 1024);
        HttpResponse<String> ok = postJson("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"" + fits + "\"}");
        assertEquals(202, ok.statusCode(), "just under the limit is taken");
    }

    @Test
    void wrongMethodPathOrContentType() throws Exception {
        HttpResponse<String> get = HTTP.send(HttpRequest.newBuilder(base.resolve("/api/v1/messages"))
                .header("Authorization", "Bearer " + KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, get.statusCode());
        assertEquals("POST", get.headers().firstValue("Allow").orElse(null));
        assertEquals(404, post("/api/v1/other", "application/json", "{}", KEY).statusCode());
        assertEquals(404, post("/forms/unknown", "application/x-www-form-urlencoded", "a=b", null).statusCode());
        assertEquals(415, post("/api/v1/messages", "text/plain", "{}", KEY).statusCode());
        assertEquals(415, post("/api/v1/messages", null, "{}", KEY).statusCode());
    }

    @Test
    void aFormPostBecomesATextMailAndRedirects() throws Exception {
        HttpResponse<String> r = post("/forms/signup", "application/x-www-form-urlencoded",
                "name=Alice+Smith&email=alice%40client.test&subject=Ignore+me&comments=Line+one%0D%0ALine+two", null);

        assertEquals(303, r.statusCode(), r.body());
        assertEquals("https://www.example.test/thanks", r.headers().firstValue("Location").orElse(null));
        MailRecord m = formMail("Alice Smith");
        assertEquals("postmaster@relay.test", m.envelope().sender());
        assertEquals(List.of("sales@local.test"), recipients(m));
        MimeMessage mail = parse(m);
        assertEquals("New sign-up", mail.getSubject(), "a subject field does not override the form's");
        assertEquals("alice@client.test", ((InternetAddress) mail.getReplyTo()[0]).getAddress());
        assertTrue(mail.isMimeType("text/plain"));
        assertEquals("name: Alice Smith\r\nemail: alice@client.test\r\nsubject: Ignore me\r\ncomments: Line one\r\n  Line two\r\n",
                mail.getContent());
    }

    @Test
    void aFormWithoutRedirectThanksAndRefusesHeaderInjection() throws Exception {
        HttpResponse<String> r = post("/forms/contact", "application/x-www-form-urlencoded", "message=Hello+there", null);
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("Thank you"), r.body());
        MailRecord m = formMail("Hello there");
        assertEquals("web@local.test", m.envelope().sender());
        assertEquals(List.of("info@local.test"), recipients(m));

        HttpResponse<String> injected = post("/forms/contact", "application/x-www-form-urlencoded",
                "email=a%40client.test%0D%0ABcc%3A+victim%40remote.test&message=spam", null);
        assertEquals(400, injected.statusCode());
        assertEquals(415, post("/forms/contact", "multipart/form-data; boundary=x", "--x--", null).statusCode());
        assertEquals(413, post("/forms/contact", "application/x-www-form-urlencoded", "m=" + "x".repeat(70 * 1024), null).statusCode());
    }

    @Test
    void listensOnlyWhenEnabled() throws Exception {
        int port = FreePorts.next();
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                http: { enabled: false, addresses: [127.0.0.1], port: %d, apiKeys: [%s] }
                """.formatted(port, KEY), dir);
        HttpSubmissionRole off = new HttpSubmissionRole(config, new KafkaClients("127.0.0.1:1", "off."), topics);
        off.start();
        try {
            assertEquals(List.of(), off.addresses());
            assertEquals(List.of(new java.net.InetSocketAddress("127.0.0.1", base.getPort())), role.addresses());
        } finally {
            off.close();
        }
    }

    @Test
    void withoutKafkaTheAnswerIs503WithRetryAfter() throws Exception {
        int port = FreePorts.next();
        MailrootConfig config = ConfigLoader.parse("""
                fqdn: relay.test
                http: { enabled: true, addresses: [127.0.0.1], port: %d, apiKeys: [%s] }
                """.formatted(port, KEY), dir);
        // Nothing listens on this bootstrap port: Kafka never acknowledges.
        KafkaClients nowhere = new KafkaClients("127.0.0.1:" + FreePorts.next(), "nowhere.");
        HttpSubmissionRole unqueued = new HttpSubmissionRole(config, nowhere, new Topics("nowhere.", 2), Duration.ofSeconds(1));
        unqueued.start();
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/messages"))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer " + KEY)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"from\": \"a@client.test\", \"to\": [\"b@local.test\"], \"text\": \"x\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, r.statusCode(), r.body());
            assertEquals("30", r.headers().firstValue("Retry-After").orElse(null));
            assertTrue(JSON.readTree(r.body()).get("error").asText().contains("nothing was queued"));
        } finally {
            unqueued.close();
        }
    }

    /** The form mail whose body holds {@code marker}; forms answer no id, so it is found by content. */
    private static MailRecord formMail(String marker) {
        List<MailRecord> found = new ArrayList<>();
        Await.until("a form mail with " + marker, WAIT, () -> {
            for (ConsumerRecord<String, byte[]> r : inbound.poll(Duration.ofMillis(100))) {
                queued.put(r.key(), EnvelopeCodec.fromRecord(r));
            }
            found.clear();
            queued.values().stream().filter(m -> new String(m.message(), StandardCharsets.UTF_8).contains(marker)).forEach(found::add);
            return !found.isEmpty();
        });
        return found.get(0);
    }
}
