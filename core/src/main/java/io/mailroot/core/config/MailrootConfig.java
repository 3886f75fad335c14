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
        Delivery delivery) {

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
            Logging logging) {
    }

    public record Authentication(boolean anonymous, boolean basic, boolean requireTls, String defaultDomain) {
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
            String ndrCopyTo) {
    }

    public record Local(Duration delayNotification, Duration expirationTimeout) {
    }
}
