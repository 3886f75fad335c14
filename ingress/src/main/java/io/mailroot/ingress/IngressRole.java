package io.mailroot.ingress;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.config.NodeId;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.role.Role;
import io.mailroot.ingress.auth.AuthCommand;
import io.mailroot.ingress.auth.AuthFailures;
import io.mailroot.ingress.auth.UserDirectory;
import io.mailroot.ingress.connection.ConnectionGate;
import io.mailroot.ingress.connection.ForwardConfirmedDns;
import io.mailroot.ingress.connection.IdleWatchdog;
import io.mailroot.ingress.connection.ProtocolTrail;
import io.mailroot.ingress.connection.SessionStart;
import io.mailroot.ingress.log.ProtocolLog;
import io.mailroot.ingress.tls.StartTlsCommand;
import io.mailroot.ingress.tls.TlsContexts;
import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.server.SMTPServer;

/**
 * Speaks SMTP on every virtual server's addresses and queues what it accepts on {@code inbound}. It keeps no state:
 * a message is acknowledged with 250 only after Kafka acknowledged it, so any ingress node may die at any moment.
 */
public final class IngressRole implements Role {

    /** How long a client waits at the end of DATA for Kafka before hearing 451. */
    public static final Duration DEFAULT_QUEUE_TIMEOUT = Duration.ofSeconds(30);

    /** Room left in a Kafka record for the envelope header and our Received header. */
    private static final int RECORD_OVERHEAD = 64 * 1024;

    private static final int UNLIMITED_CONNECTIONS = 1 << 30;
    /** Connections SubEthaSMTP lets in past maxConnections so that ConnectionGate can answer them properly. */
    private static final int SUBETHA_HEADROOM = 100;

    private static final Logger LOG = LoggerFactory.getLogger(IngressRole.class);

    private final MailrootConfig config;
    private final KafkaClients clients;
    private final Topics topics;
    private final Duration queueTimeout;
    private final Clock logClock;
    private final List<Listener> listeners = new ArrayList<>();
    private final List<ProtocolLog> logs = new ArrayList<>();
    private InboundQueue queue;
    private IdleWatchdog watchdog;
    private ForwardConfirmedDns dns;
    private volatile boolean listening;

    public IngressRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this(config, clients, topics, DEFAULT_QUEUE_TIMEOUT);
    }

    /** @param queueTimeout how long a session waits for Kafka's acknowledgement before answering 451 */
    public IngressRole(MailrootConfig config, KafkaClients clients, Topics topics, Duration queueTimeout) {
        this(config, clients, topics, queueTimeout, Clock.systemDefaultZone());
    }

    /**
     * @param logClock stamps protocol log entries; its zone is the local time of the IIS and NCSA formats and of
     *     local time file naming
     */
    public IngressRole(MailrootConfig config, KafkaClients clients, Topics topics, Duration queueTimeout, Clock logClock) {
        this.config = config;
        this.clients = clients;
        this.topics = topics;
        this.queueTimeout = queueTimeout;
        this.logClock = logClock;
    }

    @Override
    public String name() {
        return "ingress";
    }

    @Override
    public synchronized void start() throws Exception {
        IngressMetrics.register();
        queue = new InboundQueue(producer(), topics.inbound(), queueTimeout);
        try {
            watchdog = new IdleWatchdog(watchdogTick());
            dns = new ForwardConfirmedDns(config.dns());
            UserDirectory users = new UserDirectory(config.usersFile());
            List<MailrootConfig.VirtualServer> servers = config.virtualServers();
            for (int i = 0; i < servers.size(); i++) {
                MailrootConfig.VirtualServer vs = servers.get(i);
                Front front = front("virtualServers[" + i + "]", vs, users, protocolLog(vs, i));
                for (String address : vs.addresses()) {
                    listen(vs, address, vs.port(), front, false);
                    if (vs.tls().implicitPort() != null) {
                        if (front.tls() == null) {
                            LOG.warn("{}: tls.implicitPort {} is ignored: tls.enabled is false", vs.name(), vs.tls().implicitPort());
                        } else {
                            listen(vs, address, vs.tls().implicitPort(), front, true);
                        }
                    }
                }
            }
            listening = true;
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /**
     * What all listeners of one virtual server share: its intake, connection gate, TLS identity, AUTH and protocol
     * log.
     */
    private record Front(Intake intake, ConnectionGate gate, SSLContext tls, AuthCommand auth,
                         Function<Socket, ProtocolTrail> trails) {
    }

    /** The virtual server's protocol log as a maker of each connection's trail; none when logging is off. */
    private Function<Socket, ProtocolTrail> protocolLog(MailrootConfig.VirtualServer vs, int index) {
        if (!vs.logging().enabled()) {
            return s -> ProtocolTrail.NONE;
        }
        ProtocolLog log = ProtocolLog.of(vs, index, NodeId.of(config), logClock);
        logs.add(log);
        return log::trail;
    }

    /** The protocol logs of the virtual servers that log, in configuration order (for tests and monitoring). */
    public synchronized List<ProtocolLog> protocolLogs() {
        return List.copyOf(logs);
    }

    @Override
    public Optional<String> notReady() {
        return listening ? Optional.empty() : Optional.of("ingress not listening");
    }

    /** @param key the virtual server's configuration key, {@code virtualServers[i]}, for errors in its lists */
    private Front front(String key, MailrootConfig.VirtualServer vs, UserDirectory users,
                        Function<Socket, ProtocolTrail> trails) throws Exception {
        MailrootConfig.ConnectionControl control = vs.connectionControl();
        ConnectionGate gate = new ConnectionGate(vs.name(), vs.maxConnections(), vs.maxConnectionsPerClient(),
                AddressList.parse(key + ".connectionControl.grant", control.grant(), dns),
                AddressList.parse(key + ".connectionControl.deny", control.deny(), dns), vs.reverseDnsLookup(), dns);
        SSLContext tls = vs.tls().enabled()
                ? TlsContexts.forServer(vs.tls(), config.dataDir().resolve("tls"), config.fqdn())
                : null;
        MailrootConfig.Authentication a = vs.authentication();
        AuthCommand auth = new AuthCommand(new AuthCommand.Settings(a.basic(), a.allowAuthWithoutTls(), a.defaultDomain()),
                users, new AuthFailures(a.maxFailures(), a.lockout()));
        return new Front(intake(key, vs), gate, tls, auth, trails);
    }

    private void listen(MailrootConfig.VirtualServer vs, String address, int port, Front front, boolean implicitTls)
            throws UnknownHostException {
        SMTPServer server = server(vs, address, port, front, implicitTls);
        server.start();
        listeners.add(new Listener(server, implicitTls));
        LOG.info("{} listening on {}:{}{}", vs.name(), address, server.getPortAllocated(), implicitTls ? " (implicit TLS)" : "");
    }

    private record Listener(SMTPServer server, boolean implicitTls) {
    }

    /** Often enough that a 1 s time-out is kept to within a quarter of a second, and at least once a second. */
    private Duration watchdogTick() {
        Duration shortest = config.virtualServers().stream().map(MailrootConfig.VirtualServer::connectionTimeout)
                .min(Duration::compareTo).orElse(Duration.ofMinutes(10));
        Duration tick = shortest.dividedBy(4);
        return tick.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100)
                : tick.compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1) : tick;
    }

    /** The ports the plain SMTP listeners are bound to, in configuration order (for logs and tests). */
    public synchronized List<Integer> ports() {
        return listeners.stream().filter(l -> !l.implicitTls()).map(l -> l.server().getPortAllocated()).toList();
    }

    /** The ports of the implicit-TLS listeners (tls.implicitPort), in configuration order. */
    public synchronized List<Integer> implicitTlsPorts() {
        return listeners.stream().filter(Listener::implicitTls).map(l -> l.server().getPortAllocated()).toList();
    }

    private KafkaProducer<String, byte[]> producer() {
        Map<String, Object> c = clients.producerConfig("mailroot-ingress-" + config.fqdn());
        // send() blocks while it has no metadata; never let that outlast the time the client is promised.
        long maxBlock = ((Number) c.getOrDefault(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.MAX_VALUE)).longValue();
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Math.min(maxBlock, queueTimeout.toMillis()));
        return new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer());
    }

    private Intake intake(String key, MailrootConfig.VirtualServer vs) {
        // Domain names in relay.allow are matched through forward-confirmed reverse DNS, asked at RCPT and cached.
        AddressList relayAllowed = AddressList.parse(key + ".relay.allow", vs.relay().allow(), dns);
        List<RecipientPolicy> recipientPolicies = new ArrayList<>();
        if (vs.maxRecipientsPerMessage() != null) {
            recipientPolicies.add(new RecipientLimit(vs.maxRecipientsPerMessage()));
        }
        recipientPolicies.add(new RelayPolicy(config::isLocal, relayAllowed, vs.relay().allowAuthenticated()));
        List<MessagePolicy> messagePolicies = List.of(new HopCountPolicy(config.delivery().maxHopCount()));
        return new Intake(vs.name(), config.fqdn(), vs.reverseDnsLookup(), maxMessageBytes(vs),
                List.copyOf(recipientPolicies), messagePolicies, queue).withRules(SessionRules.of(vs));
    }

    /** The configured limit, or, with no limit configured, the largest message a Kafka record can carry. */
    private static int maxMessageBytes(MailrootConfig.VirtualServer vs) {
        int recordLimit = KafkaClients.MAX_RECORD_BYTES - RECORD_OVERHEAD;
        Integer kb = vs.maxMessageSizeKb();
        return kb == null ? recordLimit : (int) Math.min(recordLimit, kb * 1024L);
    }

    private SMTPServer server(MailrootConfig.VirtualServer vs, String address, int port, Front front, boolean implicitTls)
            throws UnknownHostException {
        Optional<InetAddress> bind = "0.0.0.0".equals(address) || "::".equals(address)
                ? Optional.empty()
                : Optional.of(InetAddress.getByName(address));
        Duration idle = vs.connectionTimeout();
        SSLContext implicit = implicitTls ? front.tls() : null;
        // the listener's sockets ask its command table, which exists once the server is built (before it starts)
        AtomicReference<SMTPServer> built = new AtomicReference<>();
        SMTPServer server = SMTPServer.port(port)
                .bindAddress(bind)
                .hostName(config.fqdn())
                .softwareName("Mailroot")
                .serverThreadName("mailroot-smtp-" + port + "-" + address)
                .messageHandlerFactory(front.intake()::open)
                .insertReceivedHeaders(false)
                .serverSocketFactory(() -> new NoDelayServerSocket(watchdog, idle, implicit,
                        line -> SmtpCommands.dispatchable(built.get(), line), front.trails()))
                .sessionHandler(new SessionStart(front.gate()))
                .maxMessageSize(front.intake().maxMessageBytes())
                // RecipientLimit answers with the enhanced code; SubEthaSMTP's own check would not.
                .maxRecipients(-1)
                // ConnectionGate enforces maxConnections with 421 4.3.2; SubEthaSMTP's own limit (421 without an
                // enhanced code) only stops a flood far past it. "No limit" must stay well below
                // Integer.MAX_VALUE: SubEthaSMTP adds 10 to size a semaphore.
                .maxConnections(vs.maxConnections() == null ? UNLIMITED_CONNECTIONS : vs.maxConnections() + SUBETHA_HEADROOM)
                // The IdleWatchdog closes idle sessions with 421 4.4.2; SubEthaSMTP's read time-out is a backstop.
                .connectionTimeout((int) Math.min(Integer.MAX_VALUE, idle.multipliedBy(2).plusSeconds(10).toMillis()),
                        TimeUnit.MILLISECONDS)
                .build();
        built.set(server);
        SmtpCommands.install(server, front.auth(), new EhloCommand(front.tls() != null, front.auth()),
                new StartTlsCommand(front.tls()));
        return server;
    }

    @Override
    public synchronized void close() {
        listening = false;
        for (Listener l : listeners) {
            try {
                l.server().stop();
            } catch (RuntimeException e) {
                LOG.warn("stopping SMTP listener on port {}: {}", l.server().getPort(), e.toString());
            }
        }
        listeners.clear();
        if (watchdog != null) {
            watchdog.close();
            watchdog = null;
        }
        if (queue != null) {
            queue.close();
            queue = null;
        }
        // after the listeners: the last sessions' entries are queued by now
        logs.forEach(ProtocolLog::close);
        logs.clear();
    }
}
