package io.mailroot.ingress.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.role.Role;
import io.mailroot.ingress.Client;
import io.mailroot.ingress.InboundQueue;
import io.mailroot.ingress.MailboxAddress;
import io.mailroot.ingress.IngressMetrics;
import io.mailroot.ingress.ReceivedHeader;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP submission API, what CDONTS.NewMail was to IIS web applications: {@code POST /api/v1/messages} with
 * an API key and a JSON message, and {@code POST /forms/NAME} for each configured HTML form. A request is
 * answered 202 (or the form's redirect) only after Kafka acknowledged the queued message, so a client that heard
 * it may forget the message; on 503 it must try again.
 *
 * <p>A valid API key authorises mail to any domain, as an authenticated SMTP client may relay: the key is the
 * credential.
 */
public final class HttpSubmissionRole implements Role {

    public static final String MESSAGES_PATH = "/api/v1/messages";
    public static final String FORMS_PATH = "/forms/";
    public static final Duration DEFAULT_QUEUE_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger LOG = LoggerFactory.getLogger(HttpSubmissionRole.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    /** Requests waiting for Kafka block a thread each; beyond this many, new connections wait in the accept loop. */
    private static final int THREADS = 16;
    private static final int RETRY_AFTER_SECONDS = 30;
    /** How much of a body over the limit is read and dropped before the 413, so the client hears it. */
    private static final long DISCARD_BYTES = 1024 * 1024;
    /** Seconds the JDK's HTTP server allows for reading a request (read once, when the first server is made). */
    private static final String MAX_REQUEST_TIME = "sun.net.httpserver.maxReqTime";

    private final MailrootConfig config;
    private final KafkaClients clients;
    private final Topics topics;
    private final Duration queueTimeout;
    private final ApiKeys keys;
    private final MimeComposer composer;
    private final int maxRequestBytes;
    private final List<HttpServer> servers = new ArrayList<>();
    private final Map<String, FormTarget> forms = new HashMap<>();
    private ThreadPoolExecutor executor;
    private InboundQueue inbound;

    /** A configured form with its addresses parsed. */
    private record FormTarget(InternetAddress from, InternetAddress to, String subject, String redirect) {
    }

    public HttpSubmissionRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this(config, clients, topics, DEFAULT_QUEUE_TIMEOUT);
    }

    /** @param queueTimeout how long a request waits for Kafka's acknowledgement before it is answered 503 */
    public HttpSubmissionRole(MailrootConfig config, KafkaClients clients, Topics topics, Duration queueTimeout) {
        this.config = config;
        this.clients = clients;
        this.topics = topics;
        this.queueTimeout = queueTimeout;
        this.keys = new ApiKeys(config.http().apiKeys());
        this.composer = new MimeComposer(config.fqdn());
        this.maxRequestBytes = config.http().maxRequestKb() * 1024;
    }

    @Override
    public String name() {
        return "http-submission";
    }

    @Override
    public synchronized void start() throws IOException {
        if (!config.http().enabled() || executor != null) {
            return;
        }
        config.http().forms().forEach((name, f) -> forms.put(name, target(name, f)));
        AtomicInteger n = new AtomicInteger();
        executor = new ThreadPoolExecutor(THREADS, THREADS, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), r -> {
            Thread t = new Thread(r, "mailroot-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
        executor.allowCoreThreadTimeOut(true);
        inbound = new InboundQueue(producer(), topics.inbound(), queueTimeout, IngressMetrics.HTTP);
        // The JDK server reads a request on a pool thread and, by default, waits for it for ever: a client that
        // sends its request a byte a minute would hold a thread. Bound it unless the operator chose otherwise.
        if (System.getProperty(MAX_REQUEST_TIME) == null) {
            System.setProperty(MAX_REQUEST_TIME, "60");
        }
        try {
            for (String address : config.http().addresses()) {
                HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), config.http().port()), 128);
                server.createContext("/", this::handle);
                server.setExecutor(executor);
                server.start();
                servers.add(server);
                LOG.info("HTTP submission listening on {}", server.getAddress());
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Where the API listens, one entry per configured address. */
    public synchronized List<InetSocketAddress> addresses() {
        return servers.stream().map(HttpServer::getAddress).toList();
    }

    /** The shared producer, which gives up waiting for Kafka's metadata when a request would give up anyway. */
    private KafkaProducer<String, byte[]> producer() {
        Map<String, Object> c = clients.producerConfig("mailroot-http");
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Math.min(queueTimeout.toMillis(), 15_000L));
        return new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer());
    }

    private FormTarget target(String name, MailrootConfig.Form f) {
        String from = f.from() != null ? f.from() : "postmaster@" + config.fqdn();
        return new FormTarget(formAddress(name, "from", from), formAddress(name, "to", f.to()), f.subject(), f.redirect());
    }

    private static InternetAddress formAddress(String form, String key, String value) {
        try {
            return MessageRequest.normalised(new InternetAddress(value, true));
        } catch (AddressException | MailboxAddress.Invalid e) {
            throw new IllegalArgumentException("http.forms." + form + "." + key + ": not a mailbox address: " + value
                    + " (" + e.getMessage() + ")", e);
        }
    }

    private void handle(HttpExchange exchange) {
        String path = exchange.getRequestURI().getPath();
        boolean form = path != null && path.startsWith(FORMS_PATH);
        try {
            if (MESSAGES_PATH.equals(path)) {
                submitMessage(exchange);
            } else if (form && forms.containsKey(path.substring(FORMS_PATH.length()))) {
                submitForm(exchange, forms.get(path.substring(FORMS_PATH.length())));
            } else {
                throw new BadRequest(404, "no such resource: " + path, null);
            }
        } catch (BadRequest e) {
            answerError(exchange, e, form);
        } catch (IOException e) {
            LOG.debug("HTTP client {} went away: {}", exchange.getRemoteAddress(), e.toString());
        } catch (Exception e) {
            LOG.warn("HTTP submission from {} failed: {}", exchange.getRemoteAddress(), e.toString(), e);
            answerError(exchange, new BadRequest(500, "internal error", null), form);
        } finally {
            exchange.close();
        }
    }

    private void submitMessage(HttpExchange exchange) throws BadRequest, IOException, MessagingException {
        requirePost(exchange);
        int key = keys.match(exchange.getRequestHeaders().getFirst("Authorization"));
        if (key < 0) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"mailroot\"");
            throw new BadRequest(401, "a valid API key is required: Authorization: Bearer KEY", null);
        }
        requireContentType(exchange, "application/json");
        byte[] body = body(exchange);
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw BadRequest.field(null, "the body is not valid JSON: " + e.getOriginalMessage());
        }
        MessageRequest request = MessageRequest.parse(json);
        String id = MessageIds.next();
        byte[] message = composer.compose(request, id);
        queue(exchange, id, request.from().getAddress(), request.recipients(), message, "api-key-" + (key + 1));
        Map<String, String> answer = new LinkedHashMap<>();
        answer.put("id", id);
        answer.put("status", "queued");
        send(exchange, 202, "application/json", JSON.writeValueAsBytes(answer));
    }

    private void submitForm(HttpExchange exchange, FormTarget form) throws BadRequest, IOException, MessagingException {
        requirePost(exchange);
        requireContentType(exchange, "application/x-www-form-urlencoded");
        FormPost post = FormPost.parse(body(exchange));
        InternetAddress replyTo = post.replyTo();
        String id = MessageIds.next();
        byte[] message = composer.composeText(form.from(), form.to(), replyTo, form.subject(), post.text(), id);
        queue(exchange, id, form.from().getAddress(), List.of(form.to().getAddress()), message, null);
        if (form.redirect() != null) {
            exchange.getResponseHeaders().set("Location", form.redirect());
            exchange.sendResponseHeaders(303, -1);
        } else {
            send(exchange, 200, "text/html; charset=utf-8",
                    "<!DOCTYPE html>\n<html><head><title>Thank you</title></head><body><p>Thank you. Your message has been sent.</p></body></html>\n"
                            .getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Prepends our Received header and waits until Kafka holds the message. */
    private void queue(HttpExchange exchange, String id, String sender, List<String> recipients, byte[] message,
                       String authIdentity) throws BadRequest {
        InetAddress client = exchange.getRemoteAddress().getAddress();
        Instant now = Instant.now();
        byte[] bytes = ReceivedHeader.prependFrom(Client.addressLiteral(client), "HTTP", config.fqdn(), id, now, message);
        Envelope envelope = Envelope.received(id, sender, recipients.stream().map(Recipient::of).toList(), now)
                .withClient(client.getHostAddress(), null, null, authIdentity, false, "http");
        if (!inbound.put(new MailRecord(envelope, bytes))) {
            exchange.getResponseHeaders().set("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
            throw new BadRequest(503, "the queue is not available; nothing was queued, try again later", null);
        }
    }

    private static void requirePost(HttpExchange exchange) throws BadRequest {
        if (!"POST".equals(exchange.getRequestMethod())) {
            exchange.getResponseHeaders().set("Allow", "POST");
            throw new BadRequest(405, "only POST is allowed here", null);
        }
    }

    private static void requireContentType(HttpExchange exchange, String expected) throws BadRequest {
        String type = exchange.getRequestHeaders().getFirst("Content-Type");
        String media = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!media.equals(expected)) {
            throw new BadRequest(415, "the body must be " + expected + (type == null ? "" : ", not " + type), null);
        }
    }

    /** Reads the body, refusing it with 413 as soon as it passes http.maxRequestKb, without holding the excess. */
    private byte[] body(HttpExchange exchange) throws BadRequest, IOException {
        try (InputStream in = exchange.getRequestBody()) {
            String length = exchange.getRequestHeaders().getFirst("Content-Length");
            if (length != null) {
                long declared;
                try {
                    declared = Long.parseLong(length.trim());
                } catch (NumberFormatException e) {
                    throw new BadRequest(400, "bad Content-Length", null);
                }
                if (declared > maxRequestBytes) {
                    throw tooLarge(in);
                }
            }
            byte[] body = in.readNBytes(maxRequestBytes + 1);
            if (body.length > maxRequestBytes) {
                throw tooLarge(in);
            }
            return body;
        }
    }

    /**
     * The 413, after reading and dropping up to {@link #DISCARD_BYTES} more of the body: closing a connection with
     * unread bytes resets it, and the reset can reach the client before it read the answer.
     */
    private BadRequest tooLarge(InputStream rest) throws IOException {
        byte[] buffer = new byte[8192];
        long left = DISCARD_BYTES;
        int n;
        while (left > 0 && (n = rest.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0) {
            left -= n;
        }
        return tooLarge();
    }

    private BadRequest tooLarge() {
        return new BadRequest(413, "the request is larger than " + config.http().maxRequestKb() + " KB", null);
    }

    private static void answerError(HttpExchange exchange, BadRequest e, boolean form) {
        try {
            if (form) {
                send(exchange, e.status(), "text/plain; charset=utf-8", (e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
            } else {
                Map<String, String> answer = new LinkedHashMap<>();
                answer.put("error", e.getMessage());
                if (e.field() != null) {
                    answer.put("field", e.field());
                }
                send(exchange, e.status(), "application/json", JSON.writeValueAsBytes(answer));
            }
        } catch (IOException io) {
            LOG.debug("could not answer {} to {}: {}", e.status(), exchange.getRemoteAddress(), io.toString());
        }
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public synchronized void close() {
        for (HttpServer server : servers) {
            try {
                // A second for requests in flight to hear their answer; one cut off here is retried by its client.
                server.stop(1);
            } catch (RuntimeException e) {
                LOG.warn("stopping the HTTP server: {}", e.toString());
            }
        }
        servers.clear();
        if (executor != null) {
            executor.shutdown();
            try {
                if (!executor.awaitTermination(queueTimeout.toSeconds() + 5, TimeUnit.SECONDS)) {
                    executor.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                executor.shutdownNow();
            }
            executor = null;
        }
        if (inbound != null) {
            inbound.close();
            inbound = null;
        }
    }
}
