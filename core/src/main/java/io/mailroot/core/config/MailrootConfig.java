package io.mailroot.core.config;

import io.mailroot.core.net.HostAndPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The whole of mailroot.yml, validated. Keys and defaults follow DESIGN.md and IIS 6; see the README table.
 *
 * @param nodeId this node's configured name, or null for the one kept in dataDir (see {@link NodeId})
 */
public record MailrootConfig(
        String fqdn,
        Path dataDir,
        String nodeId,
        Path mailroot,
        List<String> localDomains,
        KafkaSettings kafka,
        DnsSettings dns,
        List<VirtualServer> virtualServers,
        Delivery delivery,
        Path usersFile,
        Pickup pickup,
        Http http,
        Broker broker,
        Admin admin) {

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
     * @param replicationFactor as configured, or null for the default (see {@link #replication()})
     * @param embeddedPort the embedded broker's client port; its controller listens on the next one
     * @param security how clients authenticate to an external cluster (the embedded broker has its own secret)
     */
    public record KafkaSettings(String bootstrap, String topicPrefix, int partitions, Integer replicationFactor,
                                int embeddedPort, io.mailroot.core.kafka.KafkaSecurity security) {

        /** Replicas of each topic Mailroot creates on an external cluster unless configured otherwise. */
        public static final int EXTERNAL_REPLICATION = 3;

        public boolean embedded() {
            return "embedded".equals(bootstrap);
        }

        /**
         * The replication factor for new topics: as configured, else 1 on the embedded broker (it is one node) and
         * 3 on an external cluster, where a single copy of acknowledged mail would be lost with one disk.
         */
        public int replication() {
            return replicationFactor != null ? replicationFactor : embedded() ? 1 : EXTERNAL_REPLICATION;
        }
    }

    /** @param servers {@code host[:port]} of resolvers to ask; empty means the system's */
    public record DnsSettings(List<String> servers, Duration timeout) {
    }

    /**
     * @param maxConnections connections served at once over all the virtual server's listeners; null for no limit
     * @param maxConnectionsPerClient connections served at once from one client address; null for no limit
     */
    public record VirtualServer(
            String name,
            List<String> addresses,
            int port,
            Integer maxConnections,
            Integer maxConnectionsPerClient,
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

    /**
     * The admin HTTP listener every process opens: Prometheus metrics and health checks (later the admin API).
     *
     * @param addresses where it listens; 127.0.0.1 by default, since nothing on it is for the outside world
     */
    /**
     * @param topicLag whether this process measures every topic's lag for its /metrics: each measurement reads
     *     every partition of every group, so in a cluster one process (the queue view's, in the compose file) is
     *     enough, and fourteen of them load the brokers for nothing
     */
    public record Admin(boolean enabled, List<String> addresses, int port, boolean topicLag) {
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

    /**
     * The virtual server's protocol log (IIS's SMTP log): one entry per command and reply.
     *
     * @param format {@code w3c}, {@code iis}, {@code ncsa} or {@code database}
     * @param directory where log files (and the default SQLite database) are written
     * @param period {@code hourly}, {@code daily}, {@code weekly}, {@code monthly}, or {@code size} ({@code maxSizeKb})
     * @param localTimeNaming name and roll files over by local time rather than UTC
     * @param fields the W3C Extended fields, in order
     * @param bufferEntries entries that may wait for the writer; past that they are dropped (and counted), never
     *     waited for
     */
    public record Logging(boolean enabled, String format, Path directory, String period, int maxSizeKb,
                          boolean localTimeNaming, List<String> fields, int bufferEntries, LogDatabase database) {

        public static final List<String> FORMATS = List.of("w3c", "iis", "ncsa", "database");
        public static final List<String> PERIODS = List.of("hourly", "daily", "weekly", "monthly", "size");
        /** Every field IIS 6 offered for W3C Extended logging. */
        public static final List<String> W3C_FIELDS = List.of("date", "time", "c-ip", "cs-username", "s-sitename",
                "s-computername", "s-ip", "s-port", "cs-method", "cs-uri-stem", "cs-uri-query", "sc-status",
                "sc-win32-status", "sc-bytes", "cs-bytes", "time-taken", "cs-version", "cs-host", "cs(User-Agent)",
                "cs(Cookie)", "cs(Referer)");
        /** The fields that say something about SMTP (the HTTP-only ones are always "-"). */
        public static final List<String> DEFAULT_FIELDS = List.of("date", "time", "c-ip", "cs-username", "s-sitename",
                "s-computername", "s-ip", "s-port", "cs-method", "cs-uri-query", "sc-status", "sc-bytes", "cs-bytes",
                "time-taken", "cs-version");
    }

    /**
     * Where the {@code database} log format writes (IIS's ODBC logging).
     *
     * @param url a JDBC URL (SQLite or PostgreSQL), or null for SQLite in the log directory
     */
    public record LogDatabase(String url, String table, String user, String password) {
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
            Integer maxInFlightMb,
            Integer hopShards,
            Map<String, Integer> hopShardsByDomain) {

        /**
         * The security settings for a relay as written in smartHost or routeDomains (however its key writes the
         * same host and port); opportunistic TLS otherwise.
         */
        public OutboundSecurity securityFor(String relay) {
            return relay == null ? OutboundSecurity.OPPORTUNISTIC
                    : outboundSecurity.getOrDefault(HostAndPort.parse(relay, outboundPort).toString(),
                            OutboundSecurity.OPPORTUNISTIC);
        }
    }

    public record Local(Duration delayNotification, Duration expirationTimeout) {
    }

    /**
     * One node of a Kafka cluster run by {@code mailroot broker}.
     *
     * @param voters the controller quorum as {@code id@host:port,...}, or null for this node alone
     * @param clusterId the id every node is formatted with, or null to generate one (single node only)
     * @param advertisedHost how others reach this node, or null to derive it from {@code listenAddress}
     */
    public record Broker(int nodeId, String voters, String clusterId, String listenAddress, int port, int controllerPort,
                         String advertisedHost) {

        /** The voters by node id, or null when the text is not {@code id@host:port[,...]} with distinct ids. */
        public static Map<Integer, HostAndPort> parseVoters(String text) {
            if (text == null) {
                return null;
            }
            Map<Integer, HostAndPort> voters = new java.util.LinkedHashMap<>();
            for (String v : text.split(",")) {
                String[] idAndHost = v.trim().split("@", 2);
                if (idAndHost.length != 2 || !idAndHost[0].matches("\\d{1,7}") || !idAndHost[1].matches(".*:\\d{1,5}")
                        || !HostAndPort.isValid(idAndHost[1])) {
                    return null;
                }
                HostAndPort hp = HostAndPort.parse(idAndHost[1], 1);
                if (voters.put(Integer.parseInt(idAndHost[0]), hp) != null) {
                    return null;
                }
            }
            return voters;
        }
    }
}
