package io.mailroot.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.mailroot.core.kafka.KafkaSecurity;
import io.mailroot.core.net.HostAndPort;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/** Reads mailroot.yml into a {@link MailrootConfig}, applying IIS defaults and refusing what is out of range. */
public final class ConfigLoader {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** More shards than this spreads a hop thinner than any deliverer count makes useful. */
    static final int MAX_HOP_SHARDS = 1000;
    private static final Pattern DOMAIN = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*");
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Duration SECOND = Duration.ofSeconds(1);

    public static final String DEFAULT_VIRTUAL_SERVER = "Default SMTP Virtual Server";

    private ConfigLoader() {
    }

    public static MailrootConfig load(Path file) {
        return load(file, Map.of());
    }

    /** @param env the process environment: its {@code MAILROOT_*} variables win over the file */
    public static MailrootConfig load(Path file, Map<String, String> env) {
        String yaml;
        try {
            yaml = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage());
        }
        return parse(yaml, file.toAbsolutePath().getParent(), env);
    }

    /** The file alone, whatever this process's environment holds. @param base the folder relative paths are taken from */
    public static MailrootConfig parse(String yaml, Path base) {
        return parse(yaml, base, Map.of());
    }

    /**
     * The file with the {@code MAILROOT_*} variables of {@code env} laid over it (see {@link EnvironmentSettings}).
     * @param base the folder relative paths are taken from
     */
    public static MailrootConfig parse(String yaml, Path base, Map<String, String> env) {
        JsonNode root;
        try {
            root = yaml.isBlank() ? null : YAML.readTree(yaml);
        } catch (IOException e) {
            throw new ConfigException("configuration is not valid YAML: " + e.getMessage());
        }
        EnvironmentSettings settings = EnvironmentSettings.from(env);
        try {
            return read(settings.overlay(root), base, false, d -> { });
        } catch (ConfigException e) {
            throw settings.attribute(e);
        }
    }

    /** Every setting with its IIS name, default and range, in the order the loader reads them. */
    public static List<SettingDoc> documentation() {
        List<SettingDoc> docs = new ArrayList<>();
        read(null, Path.of("."), true, d -> {
            if (docs.stream().noneMatch(x -> x.key().equals(d.key()))) {
                docs.add(d);
            }
        });
        return docs;
    }

    private static MailrootConfig read(JsonNode root, Path base, boolean documenting, Consumer<SettingDoc> docs) {
        ConfigNode n = new ConfigNode("", root, docs, documenting);
        String fqdn = n.string("fqdn", "Advanced Delivery: Fully-qualified domain name", defaultHostName(), "a domain name");
        n.check("fqdn", fqdn, f -> DOMAIN.matcher(f).matches(), "a domain name");
        Path dataDir = base.resolve(n.string("dataDir", "(none: the queue folder)", "./data", "a folder path")).normalize();
        String nodeId = n.string("nodeId", "(none)", null,
                "letters, digits, '.', '_', '-' (at most 64), unique per node; null: generated once, kept in dataDir/node-id");
        n.check("nodeId", nodeId, x -> NODE_ID.matcher(x).matches(), "letters, digits, '.', '_', '-' (at most 64)");
        // Not "./mailroot" by default: in the project folder that is the mailroot command itself.
        String mailrootDir = n.string("mailroot", "Mailroot folder (Pickup, Drop, Badmail)", "<dataDir>/mailroot", "a folder path");
        Path mailroot = (mailrootDir.equals("<dataDir>/mailroot") ? dataDir.resolve("mailroot") : base.resolve(mailrootDir)).normalize();
        List<String> localDomains = n.strings("localDomains", "Domains (local, default domain)", List.of(fqdn, "localhost"), "domain names")
                .stream().map(d -> d.toLowerCase(java.util.Locale.ROOT)).toList();
        for (String d : localDomains) {
            n.check("localDomains", d, x -> DOMAIN.matcher(x).matches(), "domain names");
        }

        ConfigNode k = n.child("kafka");
        String bootstrap = k.string("bootstrap", "(none)", "embedded", "embedded, or host:port[,host:port...]");
        String topicPrefix = k.string("topicPrefix", "(none)", "mailroot.", "a topic name prefix");
        int partitions = k.integer("partitions", "(none)", 6, 1, 10000, false);
        Integer replicationFactor = k.integer("replicationFactor", "(none)", null, 1, 32, false);
        int embeddedPort = k.integer("embeddedPort", "(none)", 9092, 1, 65534, false);
        MailrootConfig.KafkaSettings kafka = new MailrootConfig.KafkaSettings(bootstrap, topicPrefix, partitions,
                replicationFactor, embeddedPort, kafkaSecurity(k, base));

        ConfigNode dn = n.child("dns");
        List<String> servers = dn.strings("servers", "(Windows DNS client)", List.of(), "host[:port] of resolvers; empty: the system resolver");
        for (String s : servers) {
            dn.check("servers", s, HostAndPort::isValid, "host[:port], an IP address, or [address]:port");
        }
        MailrootConfig.DnsSettings dns = new MailrootConfig.DnsSettings(servers,
                dn.duration("timeout", "(none)", Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMinutes(5)));

        JsonNode defaultServers = JsonNodeFactory.instance.arrayNode().add(JsonNodeFactory.instance.objectNode());
        List<MailrootConfig.VirtualServer> virtualServers = new ArrayList<>();
        List<ConfigNode> serverNodes = n.children("virtualServers", defaultServers);
        for (int i = 0; i < serverNodes.size(); i++) {
            virtualServers.add(virtualServer(serverNodes.get(i), base, dataDir, i));
        }
        List<String> names = virtualServers.stream().map(MailrootConfig.VirtualServer::name).toList();
        if (names.stream().distinct().count() != names.size()) {
            throw ConfigException.invalid("virtualServers[].name", names, "names that differ from one another");
        }

        MailrootConfig.Delivery delivery = delivery(n.child("delivery"));
        Path usersFile = base.resolve(n.string("usersFile", "(Windows accounts for Basic authentication)", "./users",
                "a file path; managed with 'mailroot user add|passwd|remove'")).normalize();
        ConfigNode pk = n.child("pickup");
        MailrootConfig.Pickup pickup = new MailrootConfig.Pickup(
                pk.bool("enabled", "Pickup directory", true),
                pk.duration("pollInterval", "(none)", Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofMinutes(10)));
        MailrootConfig.Http http = http(n.child("http"));
        MailrootConfig.Broker broker = broker(n.child("broker"));
        MailrootConfig.Admin admin = admin(n.child("admin"));
        n.rejectUnknown();
        return new MailrootConfig(fqdn, dataDir, nodeId, mailroot, localDomains, kafka, dns, List.copyOf(virtualServers), delivery,
                usersFile, pickup, http, broker, admin);
    }

    /** The {@code mailroot broker} role: one KRaft node (broker and controller) of a cluster Mailroot runs itself. */
    private static MailrootConfig.Broker broker(ConfigNode b) {
        int id = b.integer("nodeId", "(none)", 1, 0, 1_000_000, false);
        String voters = b.string("voters", "(none)", null,
                "id@host:port[,id@host:port...] of every controller (the quorum); null: this node alone");
        b.check("voters", voters, v -> MailrootConfig.Broker.parseVoters(v) != null,
                "id@host:port[,id@host:port...], distinct ids");
        String clusterId = b.string("clusterId", "(none)", null,
                "22 characters of URL-safe Base64 (a Kafka cluster id), the same on every node; null: generated (one node only)");
        b.check("clusterId", clusterId, c -> c.matches("[A-Za-z0-9_-]{22}"), "22 characters of URL-safe Base64");
        String listen = b.string("listenAddress", "(none)", "127.0.0.1", "an IP address to listen on; 0.0.0.0 means all");
        b.check("listenAddress", listen, HostAndPort::isValid, "an IP address");
        int port = b.integer("port", "(none)", 9092, 1, 65535, false);
        int controllerPort = b.integer("controllerPort", "(none)", 9093, 1, 65535, false);
        String advertised = b.string("advertisedHost", "(none)", null,
                "the host name other nodes and clients reach this broker by; null: listenAddress, or the host name when that is 0.0.0.0");
        b.check("advertisedHost", advertised, HostAndPort::isValid, "a host name or IP address");
        MailrootConfig.Broker broker = new MailrootConfig.Broker(id, voters, clusterId, listen, port, controllerPort, advertised);
        if (!b.isDocumenting()) {
            var parsed = MailrootConfig.Broker.parseVoters(voters);
            if (parsed != null && parsed.size() > 1 && clusterId == null) {
                throw ConfigException.invalid(b.keyOf("clusterId"), "null", "the cluster's id when broker.voters names several nodes");
            }
            if (parsed != null && !parsed.containsKey(id)) {
                throw ConfigException.invalid(b.keyOf("nodeId"), id, "one of the ids in broker.voters " + parsed.keySet());
            }
            if (controllerPort == port) {
                throw ConfigException.invalid(b.keyOf("controllerPort"), controllerPort, "a port other than broker.port");
            }
        }
        return broker;
    }

    /** How clients authenticate to an external cluster; the embedded broker ignores these and uses its own secret. */
    private static KafkaSecurity kafkaSecurity(ConfigNode k, Path base) {
        String protocols = String.join(", ", KafkaSecurity.PROTOCOLS);
        String mechanisms = String.join(", ", KafkaSecurity.MECHANISMS);
        ConfigNode sec = k.child("security");
        String protocol = sec.string("protocol", "(none)", "PLAINTEXT", protocols + " (external cluster only)");
        sec.check("protocol", protocol, KafkaSecurity.PROTOCOLS::contains, protocols);
        ConfigNode sasl = k.child("sasl");
        String mechanism = sasl.string("mechanism", "(none)", "SCRAM-SHA-512", mechanisms);
        sasl.check("mechanism", mechanism, KafkaSecurity.MECHANISMS::contains, mechanisms);
        String username = sasl.string("username", "(none)", null, "a user name; required with SASL_*");
        String password = sasl.string("password", "(none)", null, "a password; required with SASL_*");
        ConfigNode ssl = k.child("ssl");
        String truststore = ssl.string("truststore", "(none)", null,
                "a PEM file of CA certificates, or a .p12/.jks trust store; null: the JDK's");
        String truststorePassword = ssl.string("truststorePassword", "(none)", null, "the trust store's password, or null");
        if (protocol.startsWith("SASL_") && (username == null || password == null)) {
            throw ConfigException.invalid(sasl.keyOf(username == null ? "username" : "password"), "null",
                    "a value when kafka.security.protocol is " + protocol);
        }
        return new KafkaSecurity(protocol, mechanism, username, password,
                truststore == null ? null : base.resolve(truststore).normalize(), truststorePassword);
    }

    /** @param index the virtual server's place in the list, which names its log folder ({@code SMTPSVC<index+1>}) */
    private static MailrootConfig.VirtualServer virtualServer(ConfigNode v, Path base, Path dataDir, int index) {
        String name = v.string("name", "Virtual server name", DEFAULT_VIRTUAL_SERVER, "any text");
        List<String> addresses = v.strings("addresses", "General: IP address", List.of("127.0.0.1"), "IP addresses; 0.0.0.0 means all");
        int port = v.integer("port", "Advanced: TCP port", 2525, 1, 65535, false);
        Integer maxConnections = v.integer("maxConnections", "General: Limit number of connections to", 1000, 1, 1_000_000, true);
        Integer perClient = v.integer("maxConnectionsPerClient", "(none)", 20, 1, 1_000_000, true);
        Duration timeout = v.duration("connectionTimeout", "General: Connection time-out", Duration.ofMinutes(10), SECOND, Duration.ofDays(1));
        ConfigNode a = v.child("authentication");
        MailrootConfig.Authentication auth = new MailrootConfig.Authentication(
                a.bool("anonymous", "Authentication: Anonymous access", true),
                a.bool("basic", "Authentication: Basic authentication", false),
                a.bool("requireTls", "Authentication: Requires TLS encryption", false),
                a.string("defaultDomain", "Authentication: Default domain", null, "a domain name, or null"),
                a.bool("allowAuthWithoutTls", "(Basic authentication without TLS)", false),
                a.integer("maxFailures", "(none)", 5, 1, 1000, false),
                a.duration("lockout", "(none)", Duration.ofMinutes(15), SECOND, Duration.ofDays(1)));
        a.check("defaultDomain", auth.defaultDomain(), x -> DOMAIN.matcher(x).matches(), "a domain name, or null");
        ConfigNode cc = v.child("connectionControl");
        MailrootConfig.ConnectionControl control = new MailrootConfig.ConnectionControl(
                cc.strings("grant", "Connection control: Only the list below (granted)", List.of(), "addresses, CIDR subnets, domain names"),
                cc.strings("deny", "Connection control: All except the list below (denied)", List.of(), "addresses, CIDR subnets, domain names"));
        ConfigNode r = v.child("relay");
        MailrootConfig.Relay relay = new MailrootConfig.Relay(
                r.strings("allow", "Relay restrictions: Only the list below", List.of(), "addresses, CIDR subnets, domain names"),
                r.bool("allowAuthenticated", "Relay restrictions: Allow all computers which successfully authenticate", true));
        Integer size = v.integer("maxMessageSizeKb", "Messages: Limit message size to (KB)", 2048, 1, 65536, true);
        Integer session = v.integer("maxSessionSizeKb", "Messages: Limit session size to (KB)", 10240, 1, 4_194_304, true);
        Integer rcpts = v.integer("maxRecipientsPerMessage", "Messages: Limit number of recipients per message to", 100, 1, 100_000, true);
        boolean rdns = v.bool("reverseDnsLookup", "Delivery > Advanced: Perform reverse DNS lookup on incoming messages", false);
        MailrootConfig.Logging logging = logging(v.child("logging"), base, dataDir, index);
        ConfigNode t = v.child("tls");
        String cert = t.string("certificate", "Access: Certificate", null, "a PEM certificate chain file, or null (self-signed)");
        String key = t.string("privateKey", "Access: Certificate (private key)", null, "a PEM private key file, or null (self-signed)");
        if ((cert == null) != (key == null)) {
            throw ConfigException.invalid(t.keyOf(cert == null ? "certificate" : "privateKey"), "null",
                    "a file when " + (cert == null ? "privateKey" : "certificate") + " is set (both or neither)");
        }
        MailrootConfig.Tls tls = new MailrootConfig.Tls(
                t.bool("enabled", "Access: Secure communication (STARTTLS)", true),
                cert == null ? null : base.resolve(cert).normalize(),
                key == null ? null : base.resolve(key).normalize(),
                t.integer("implicitPort", "(none: SMTPS/submissions port, RFC 8314)", null, 1, 65535, true));
        return new MailrootConfig.VirtualServer(name, addresses, port, maxConnections, perClient, timeout, auth, control, relay,
                size, session, rcpts, rdns, logging, tls);
    }

    /** The virtual server's protocol log, as IIS's "Enable logging" and its Properties dialog have it. */
    private static MailrootConfig.Logging logging(ConfigNode l, Path base, Path dataDir, int index) {
        boolean enabled = l.bool("enabled", "General: Enable logging", true);
        String format = l.string("format", "General: Active log format", "w3c", "w3c, iis, ncsa, database");
        l.check("format", format, f -> MailrootConfig.Logging.FORMATS.contains(f), "w3c, iis, ncsa, database");
        String dir = l.string("directory", "General Properties: Log file directory", "<dataDir>/logs/SMTPSVC<n>",
                "a folder path; the default is per node and per virtual server (n = its place in virtualServers, from 1)");
        Path directory = (dir.equals("<dataDir>/logs/SMTPSVC<n>") ? dataDir.resolve("logs").resolve("SMTPSVC" + (index + 1))
                : base.resolve(dir)).normalize();
        String periods = String.join(", ", MailrootConfig.Logging.PERIODS);
        String period = l.string("period", "General Properties: New log schedule", "daily", periods);
        l.check("period", period, MailrootConfig.Logging.PERIODS::contains, periods);
        int maxSizeKb = l.integer("maxSizeKb", "General Properties: When file size reaches (KB)", 20480, 1, 4_194_304, false);
        boolean localTime = l.bool("localTimeNaming", "General Properties: Use local time for file naming and rollover", false);
        String allowedFields = String.join(", ", MailrootConfig.Logging.W3C_FIELDS);
        List<String> fields = l.strings("fields", "Advanced Properties: Extended logging options",
                MailrootConfig.Logging.DEFAULT_FIELDS, "W3C field names: " + allowedFields);
        for (String f : fields) {
            l.check("fields", f, MailrootConfig.Logging.W3C_FIELDS::contains, "W3C field names: " + allowedFields);
        }
        if (fields.isEmpty() || fields.stream().distinct().count() != fields.size()) {
            throw ConfigException.invalid(l.keyOf("fields"), fields, "one or more distinct W3C field names");
        }
        int buffer = l.integer("bufferEntries", "(none: entries waiting for the log writer; more are dropped and counted)",
                10_000, 16, 10_000_000, false);
        ConfigNode db = l.child("database");
        String url = db.string("url", "ODBC Logging: ODBC Data Source Name (DSN)", null,
                "a jdbc:sqlite: or jdbc:postgresql: URL; null: SQLite in the log file directory (smtplog.db)");
        db.check("url", url, u -> u.startsWith("jdbc:sqlite:") || u.startsWith("jdbc:postgresql:"),
                "a jdbc:sqlite: or jdbc:postgresql: URL, or null");
        String table = db.string("table", "ODBC Logging: Table", "mailroot_smtp_log", "an SQL table name (letters, digits, '_')");
        db.check("table", table, t -> t.matches("[A-Za-z_][A-Za-z0-9_]{0,62}"), "letters, digits and '_', not starting with a digit");
        String user = db.string("user", "ODBC Logging: User name", null, "the database user, or null");
        String password = db.string("password", "ODBC Logging: Password", null, "the database user's password, or null");
        return new MailrootConfig.Logging(enabled, format, directory, period, maxSizeKb, localTime, fields, buffer,
                new MailrootConfig.LogDatabase(url, table, user, password));
    }

    private static MailrootConfig.Delivery delivery(ConfigNode d) {
        List<Duration> retries = d.durations("retryIntervals", "Delivery: First/Second/Third/Subsequent retry interval",
                List.of(Duration.ofMinutes(15), Duration.ofMinutes(30), Duration.ofMinutes(60), Duration.ofMinutes(240)),
                SECOND, Duration.ofMinutes(9999));
        Duration delay = d.duration("delayNotification", "Delivery: Outbound delay notification", Duration.ofHours(12), SECOND, Duration.ofDays(99));
        Duration expire = d.duration("expirationTimeout", "Delivery: Outbound expiration timeout", Duration.ofDays(2), SECOND, Duration.ofDays(99));
        ConfigNode l = d.child("local");
        MailrootConfig.Local local = new MailrootConfig.Local(
                l.duration("delayNotification", "Delivery: Local delay notification", Duration.ofHours(12), SECOND, Duration.ofDays(99)),
                l.duration("expirationTimeout", "Delivery: Local expiration timeout", Duration.ofDays(2), SECOND, Duration.ofDays(99)));
        int maxOut = d.integer("maxOutboundConnections", "Outbound connections: Limit number of connections to", 1000, 1, 100_000, false);
        int perDomain = d.integer("maxConnectionsPerDomain", "Outbound connections: Limit number of connections per domain to", 100, 1, 100_000, false);
        int perConn = d.integer("maxMessagesPerConnection", "Messages: Limit number of messages per connection to", 20, 1, 100_000, false);
        int rcpts = d.integer("maxRecipientsPerMessage", "Messages: Limit number of recipients per message to (outbound)", 100, 1, 100_000, false);
        Duration timeout = d.duration("outboundTimeout", "Outbound connections: Time-out", Duration.ofMinutes(10), SECOND, Duration.ofDays(1));
        int port = d.integer("outboundPort", "Outbound connections: TCP port", 25, 1, 65535, false);
        int hops = d.integer("maxHopCount", "Advanced Delivery: Maximum hop count", 15, 10, 256, false);
        String masquerade = d.string("masqueradeDomain", "Advanced Delivery: Masquerade domain", null,
                "a domain name, or null; replaces the domain of senders in localDomains, others keep theirs");
        d.check("masqueradeDomain", masquerade, x -> DOMAIN.matcher(x).matches(), "a domain name, or null");
        String smartHost = d.string("smartHost", "Advanced Delivery: Smart host", null, "host[:port] or [address][:port], or null");
        d.check("smartHost", smartHost, HostAndPort::isValid, "host[:port] or [address][:port], or null");
        boolean direct = d.bool("attemptDirectBeforeSmartHost", "Advanced Delivery: Attempt direct delivery before sending to smart host", false);
        var routes = d.stringMap("routeDomains", "Domains (remote): Forward all mail to smart host", "domain: host[:port]");
        routes.forEach((dom, hop) -> d.check("routeDomains." + dom, hop, HostAndPort::isValid, "host[:port] or [address][:port]"));
        Map<String, MailrootConfig.OutboundSecurity> security = new java.util.LinkedHashMap<>();
        d.childMap("outboundSecurity", "<relay>", "Outbound Security (per smart host or route-domain host)",
                "relay as written in smartHost/routeDomains: {requireTls, username, password}").forEach((relayName, sn) -> {
            String user = sn.string("username", "Outbound Security: Basic authentication user name", null, "a user name, or null");
            String pass = sn.string("password", "Outbound Security: Basic authentication password", null, "a password, or null");
            if ((user == null) != (pass == null)) {
                throw ConfigException.invalid(sn.keyOf("password"), pass == null ? "null" : "(set)", "set together with username");
            }
            d.check("outboundSecurity", relayName, HostAndPort::isValid, "keys host[:port] or [address][:port]");
            // Keyed as securityFor looks relays up: 127.0.0.1:25, [127.0.0.1] and 127.0.0.1 are one relay.
            // (Only the documentation's placeholder key is left invalid after the check.)
            String key = HostAndPort.isValid(relayName) ? HostAndPort.parse(relayName, port).toString() : relayName;
            security.put(key, new MailrootConfig.OutboundSecurity(
                    sn.bool("requireTls", "Outbound Security: TLS encryption", false), user, pass,
                    sn.bool("verifyCertificate", "(none: check the relay's certificate when TLS is required)", true)));
        });
        Integer badmailWarn = d.integer("badmailWarnSizeKb", "(none: Badmail size warning)", 102_400, 1, Integer.MAX_VALUE, true);
        // Null: a share of the heap, worked out by the deliverer when it starts.
        Integer inFlight = d.integer("maxInFlightMb", "(none)", null, 1, 1_048_576, false);
        // Null: the outbound topic's partitions, so a smart host can be delivered by every deliverer at once.
        Integer hopShards = d.integer("hopShards", "(none: shards of a smart host or route-domain relay)", null, 1,
                MAX_HOP_SHARDS, false);
        var shardsByDomain = d.integerMap("hopShardsByDomain", "(none: shards of a busy domain delivered by MX)", 1,
                MAX_HOP_SHARDS, "domain: shards (others 1)");
        shardsByDomain.keySet().forEach(dom -> d.check("hopShardsByDomain", dom, x -> DOMAIN.matcher(x).matches(),
                "keys that are domain names"));
        var shardsLowered = new java.util.LinkedHashMap<String, Integer>();
        shardsByDomain.forEach((k, v) -> shardsLowered.put(k.toLowerCase(java.util.Locale.ROOT), v));
        String ndr = d.string("ndrCopyTo", "Messages: Send copy of Non-Delivery Report to", null, "a mailbox address, or null");
        d.check("ndrCopyTo", ndr, x -> x.matches("[^@\\s]+@[^@\\s]+"), "a mailbox address (local@domain), or null");
        var lowered = new java.util.LinkedHashMap<String, String>();
        routes.forEach((k, v) -> lowered.put(k.toLowerCase(java.util.Locale.ROOT), v));
        return new MailrootConfig.Delivery(retries, delay, expire, local, maxOut, perDomain, perConn, rcpts, timeout,
                port, hops, masquerade, smartHost, direct, java.util.Map.copyOf(lowered), ndr, Map.copyOf(security), badmailWarn,
                inFlight, hopShards, Map.copyOf(shardsLowered));
    }

    /** The process's admin listener: /metrics (Prometheus) and /health/live, /health/ready. */
    private static MailrootConfig.Admin admin(ConfigNode a) {
        boolean enabled = a.bool("enabled", "(none: metrics and health checks over HTTP)", true);
        List<String> addresses = a.strings("addresses", "(none)", List.of("127.0.0.1"),
                "IP addresses; 0.0.0.0 means all (containers, for Prometheus to scrape)");
        for (String address : addresses) {
            a.check("addresses", address, ConfigLoader::ipLiteral,
                    "IP addresses, e.g. 127.0.0.1 or 0.0.0.0");
        }
        int port = a.integer("port", "(none)", 8026, 1, 65535, false);
        if (enabled && addresses.isEmpty()) {
            throw ConfigException.invalid(a.keyOf("addresses"), "[]", "at least one address when admin.enabled is true");
        }
        boolean topicLag = a.bool("topicLag", "(none: topic-level monitoring)", true);
        return new MailrootConfig.Admin(enabled, addresses, port, topicLag);
    }

    private static MailrootConfig.Http http(ConfigNode h) {
        boolean enabled = h.bool("enabled", "(CDONTS / CDOSYS: mail from web applications)", false);
        List<String> addresses = h.strings("addresses", "(none)", List.of("127.0.0.1"), "IP addresses; 0.0.0.0 means all");
        int port = h.integer("port", "(none)", 8025, 1, 65535, false);
        List<String> keys = h.strings("apiKeys", "(none)", List.of(), "secret keys, each at least 16 characters");
        for (String k : keys) {
            h.check("apiKeys", k.length() >= 16 ? "ok" : "(a key of " + k.length() + " characters)", x -> x.equals("ok"),
                    "keys of at least 16 characters");
        }
        int maxKb = h.integer("maxRequestKb", "(none)", 10240, 1, 65536, false);
        Map<String, MailrootConfig.Form> forms = new java.util.LinkedHashMap<>();
        h.childMap("forms", "<form>", "(none: HTML form to mail)", "form name: {to, from, subject, redirect}").forEach((formName, f) -> {
            String to = f.string("to", "(none)", null, "a mailbox address");
            f.check("to", to == null ? "" : to, x -> x.matches("[^@\\s]+@[^@\\s]+"), "a mailbox address (required)");
            forms.put(formName, new MailrootConfig.Form(to,
                    f.string("from", "(none)", null, "a mailbox address, or null (postmaster@fqdn)"),
                    f.string("subject", "(none)", "Form " + formName, "any text"),
                    f.string("redirect", "(none)", null, "a URL the visitor is sent to after posting, or null")));
        });
        if (enabled && keys.isEmpty() && forms.isEmpty()) {
            throw ConfigException.invalid("http.apiKeys", "[]", "at least one key when http.enabled is true (or a form)");
        }
        return new MailrootConfig.Http(enabled, addresses, port, keys, maxKb, Map.copyOf(forms));
    }

    /** An IPv4 or IPv6 address written out, never a name (which would mean a DNS lookup at start). */
    static boolean ipLiteral(String text) {
        boolean v4 = text.matches("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
        if (v4 || !text.contains(":") || !text.matches("[0-9A-Fa-f:.]+")) {
            return v4;
        }
        try {
            InetAddress.getByName(text);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String defaultHostName() {
        try {
            String h = InetAddress.getLocalHost().getCanonicalHostName();
            return DOMAIN.matcher(h).matches() ? h.toLowerCase(java.util.Locale.ROOT) : "localhost";
        } catch (IOException e) {
            return "localhost";
        }
    }
}
