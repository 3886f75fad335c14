package io.mailroot.ingress;

import io.mailroot.ingress.connection.ClientSessions;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What ingress counts, on Micrometer's global registry: messages accepted (each only once Kafka holds it) by where
 * they came from, SMTP refusals by protocol stage and status code, and the SMTP connections open. The refusal's
 * tag is the enhanced status code ({@code 5.7.1} relay denied or connection control, {@code 5.3.4} size,
 * {@code 4.5.3} recipients, {@code 5.7.8} AUTH, {@code 4.3.2} too many connections, {@code 4.3.0} publish failed...),
 * a handful of values our own commands write, never client text: the tags stay few.
 */
public final class IngressMetrics {

    /** Where a message came in, the {@code source} tag of accepted messages. */
    public static final String SMTP = "smtp";
    public static final String HTTP = "http";
    public static final String PICKUP = "pickup";

    private static final Pattern REPLY = Pattern.compile("(\\d{3})(?: ([245]\\.\\d{1,3}\\.\\d{1,3}))?.*", Pattern.DOTALL);
    private static final MeterRegistry REGISTRY = Metrics.globalRegistry;

    static {
        Gauge.builder("mailroot.ingress.connections", () -> ClientSessions.open())
                .description("SMTP connections open now (accepted by connection control and the limits)")
                .strongReference(true).register(REGISTRY);
    }

    private IngressMetrics() {
    }

    /** Makes sure the gauges exist before the first connection (a scrape then shows 0, not nothing). */
    static void register() {
        // the static initialiser did it
    }

    /** One message queued on inbound and acknowledged by Kafka. */
    public static void accepted(String source) {
        REGISTRY.counter("mailroot.ingress.messages.accepted", "source", source).increment();
    }

    /**
     * A refusal the client hears.
     *
     * @param stage connect, auth, mail, rcpt or data
     * @param reply the reply line as sent, e.g. {@code 550 5.7.1 Unable to relay}
     */
    public static void refused(String stage, String reply) {
        Matcher m = REPLY.matcher(reply);
        String code = !m.matches() ? "other" : m.group(2) != null ? m.group(2) : m.group(1);
        REGISTRY.counter("mailroot.ingress.refused", "stage", stage, "code", code).increment();
    }
}
