package io.mailroot.core.kafka;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How Mailroot's clients prove themselves to Kafka: the {@code kafka.security} / {@code kafka.sasl} /
 * {@code kafka.ssl} settings against an external cluster, or the embedded broker's own secret.
 *
 * @param protocol PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
 * @param mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (for the SASL protocols)
 * @param truststore the CA certificates (PEM) or trust store (PKCS12, JKS) for the SSL protocols, or null for the
 *     JDK's
 * @param truststorePassword the trust store's password, or null (PEM needs none)
 */
public record KafkaSecurity(String protocol, String mechanism, String username, String password, Path truststore,
                            String truststorePassword) {

    public static final List<String> PROTOCOLS = List.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
    public static final List<String> MECHANISMS = List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");
    public static final KafkaSecurity NONE = new KafkaSecurity("PLAINTEXT", null, null, null, null, null);

    /** Brokers started in this JVM (the embedded one), by bootstrap, with the credentials their clients need. */
    private static final Map<String, KafkaSecurity> IN_PROCESS = new ConcurrentHashMap<>();

    /** SASL PLAIN over a plain-text connection: the embedded broker's, reached only over loopback. */
    public static KafkaSecurity plainSasl(String username, String password) {
        return new KafkaSecurity("SASL_PLAINTEXT", "PLAIN", username, password, null, null);
    }

    /** Called by a broker this JVM runs, so that clients made for its bootstrap find its credentials. */
    public static void registerInProcess(String bootstrap, KafkaSecurity security) {
        IN_PROCESS.put(bootstrap, security);
    }

    public static void unregisterInProcess(String bootstrap) {
        IN_PROCESS.remove(bootstrap);
    }

    /** The credentials of a broker this JVM runs at {@code bootstrap}, if it runs one. */
    public static Optional<KafkaSecurity> inProcess(String bootstrap) {
        return Optional.ofNullable(IN_PROCESS.get(bootstrap));
    }

    public boolean sasl() {
        return protocol.startsWith("SASL_");
    }

    public boolean ssl() {
        return protocol.equals("SSL") || protocol.equals("SASL_SSL");
    }

    /** The client properties (security.protocol, sasl.*, ssl.truststore.*) for producers, consumers and admins. */
    public Map<String, Object> clientProperties() {
        Map<String, Object> c = new HashMap<>();
        c.put("security.protocol", protocol);
        if (sasl()) {
            c.put("sasl.mechanism", mechanism);
            String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            c.put("sasl.jaas.config", module + " required username=" + jaasQuoted(username) + " password="
                    + jaasQuoted(password) + ";");
        }
        if (ssl() && truststore != null) {
            String name = truststore.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
            c.put("ssl.truststore.location", truststore.toAbsolutePath().toString());
            c.put("ssl.truststore.type", name.endsWith(".jks") ? "JKS"
                    : name.endsWith(".p12") || name.endsWith(".pfx") ? "PKCS12" : "PEM");
            if (truststorePassword != null) {
                c.put("ssl.truststore.password", truststorePassword);
            }
        }
        return c;
    }

    /** A JAAS option value: quoted, with backslash and quote escaped. */
    public static String jaasQuoted(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Never the password. */
    @Override
    public String toString() {
        return protocol + (sasl() ? " " + mechanism + " as " + username : "")
                + (truststore != null ? " trusting " + truststore : "");
    }
}
