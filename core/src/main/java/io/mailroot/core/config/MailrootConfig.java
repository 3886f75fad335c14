package io.mailroot.core.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The whole of mailroot.yml, validated. Keys and defaults follow DESIGN.md and IIS 6; see the README table. */
public record MailrootConfig(
        String fqdn,
        Path dataDir,
        Path mailroot,
        List<String> localDomains,
        KafkaSettings kafka,
        DnsSettings dns,
        List<VirtualServer> virtualServers,
        Delivery delivery,
        Path usersFile,
        Pickup pickup,
        Http http) {

    public boolean isLocal(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        return localDomains.stream().anyMatch(l -> l.equalsIgnoreCase(d));
    }

    public Path pickupDir() {
        return mailroot.resolve("Pickup");
    }

    public Path dropDir() {
        return mailroot.resolve("Drop");
    }

    public Path badmailDir() {
        return mailroot.resolve("Badmail");
    }

    /**
     * @param bootstrap {@code embedded} for the in-process broker, else a Kafka bootstrap list
     * @param embeddedPort the embedded broker's client port; its controller listens on the next one
     */
    public record KafkaSettings(String bootstrap, String topicPrefix, int partitions, int replicationFactor,
                                int embeddedPort) {
        public boolean embedded() {
            return "embedded".equals(bootstrap);
        }
    }

    /** @param servers {@code host[:port]} of resolvers to ask; empty means the system's */
    public record DnsSettings(List<String> servers, Duration timeout) {
    }

    public record VirtualServer(
            String name,
            List<String> addresses,
            int port,
            Integer maxConnections,
            Duration connectionTimeout,
            Authentication authentication,
            ConnectionControl connectionControl,
            Relay relay,
            Integer maxMessageSizeKb,
            Integer maxSessionSizeKb,
            Integer maxRecipientsPerMessage,
            boolean reverseDnsLookup,
            Logging logging,
            Tls tls) {
    }

    /**
     * @param allowAuthWithoutTls offer AUTH on a connection that has not started TLS (off: passwords never travel
     *     in clear)
     * @param maxFailures failed AUTH attempts from one address before it is refused for {@code lockout}
     */
    public record Authentication(boolean anonymous, boolean basic, boolean requireTls, String defaultDomain,
                                 boolean allowAuthWithoutTls, int maxFailures, Duration lockout) {
    }

    /**
     * @param certificate PEM certificate chain; with {@code privateKey} null both, a self-signed certificate is
     *     made on first start under dataDir/tls
     * @param implicitPort a port of its own where TLS starts at connect (submissions, RFC 8314), or null
     */
    public record Tls(boolean enabled, Path certificate, Path privateKey, Integer implicitPort) {
    }

    /** @param pollInterval how often the Pickup folder is scanned besides file-system events */
    public record Pickup(boolean enabled, Duration pollInterval) {
    }

    /**
     * The HTTP submission API for web applications.
     *
     * @param apiKeys keys a client presents as {@code Authorization: Bearer KEY}; at least one when enabled
     * @param forms form name (the path /forms/NAME) to what the form's mail looks like
     */
    public record Http(boolean enabled, List<String> addresses, int port, List<String> apiKeys, int maxRequestKb,
                       java.util.Map<String, Form> forms) {
    }

    /** An HTML form turned into a mail: the fields go in the body; the visitor is sent to {@code redirect}. */
    public record Form(String to, String from, String subject, String redirect) {
    }

    /**
     * Outbound security for one smart host or route-domain host (IIS "Outbound Security").
     *
     * @param verifyCertificate when TLS is required or credentials are sent, check the host's certificate against
     *     the JDK's trusted authorities and the relay's host name (off only for hosts with self-signed certificates)
     */
    public record OutboundSecurity(boolean requireTls, String username, String password, boolean verifyCertificate) {
        public static final OutboundSecurity OPPORTUNISTIC = new OutboundSecurity(false, null, null, true);
    }

    public record ConnectionControl(List<String> grant, List<String> deny) {
    }

    public record Relay(List<String> allow, boolean allowAuthenticated) {
    }

    public record Logging(boolean enabled, String format) {
    }

    public record Delivery(
            List<Duration> retryIntervals,
            Duration delayNotification,
            Duration expirationTimeout,
            Local local,
            int maxOutboundConnections,
            int maxConnectionsPerDomain,
            int maxMessagesPerConnection,
            int maxRecipientsPerMessage,
            Duration outboundTimeout,
            int outboundPort,
            int maxHopCount,
            String masqueradeDomain,
            String smartHost,
            boolean attemptDirectBeforeSmartHost,
            Map<String, String> routeDomains,
            String ndrCopyTo,
            Map<String, OutboundSecurity> outboundSecurity,
            Integer badmailWarnSizeKb,
            Integer maxInFlightMb) {

        /** The security settings for a relay as written in smartHost or routeDomains; opportunistic TLS otherwise. */
        public OutboundSecurity securityFor(String relay) {
            return relay == null ? OutboundSecurity.OPPORTUNISTIC
                    : outboundSecurity.getOrDefault(relay.toLowerCase(Locale.ROOT), OutboundSecurity.OPPORTUNISTIC);
        }
    }

    public record Local(Duration delayNotification, Duration expirationTimeout) {
    }
}
