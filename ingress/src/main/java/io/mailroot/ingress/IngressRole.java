package io.mailroot.ingress;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.role.Role;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
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

    private static final Logger LOG = LoggerFactory.getLogger(IngressRole.class);

    private final MailrootConfig config;
    private final KafkaClients clients;
    private final Topics topics;
    private final Duration queueTimeout;
    private final List<SMTPServer> servers = new ArrayList<>();
    private InboundQueue queue;

    public IngressRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this(config, clients, topics, DEFAULT_QUEUE_TIMEOUT);
    }

    /** @param queueTimeout how long a session waits for Kafka's acknowledgement before answering 451 */
    public IngressRole(MailrootConfig config, KafkaClients clients, Topics topics, Duration queueTimeout) {
        this.config = config;
        this.clients = clients;
        this.topics = topics;
        this.queueTimeout = queueTimeout;
    }

    @Override
    public String name() {
        return "ingress";
    }

    @Override
    public synchronized void start() throws Exception {
        queue = new InboundQueue(producer(), topics.inbound(), queueTimeout);
        try {
            for (MailrootConfig.VirtualServer vs : config.virtualServers()) {
                Intake intake = intake(vs);
                for (String address : vs.addresses()) {
                    SMTPServer server = server(vs, address, intake);
                    server.start();
                    servers.add(server);
                    LOG.info("{} listening on {}:{}", vs.name(), address, server.getPortAllocated());
                }
            }
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /** The ports the SMTP listeners are bound to, in configuration order (for logs and tests). */
    public synchronized List<Integer> ports() {
        return servers.stream().map(SMTPServer::getPortAllocated).toList();
    }

    private KafkaProducer<String, byte[]> producer() {
        Map<String, Object> c = clients.producerConfig("mailroot-ingress-" + config.fqdn());
        // send() blocks while it has no metadata; never let that outlast the time the client is promised.
        long maxBlock = ((Number) c.getOrDefault(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.MAX_VALUE)).longValue();
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Math.min(maxBlock, queueTimeout.toMillis()));
        return new KafkaProducer<>(c, new StringSerializer(), new ByteArraySerializer());
    }

    private Intake intake(MailrootConfig.VirtualServer vs) {
        AddressList relayAllowed = AddressList.parse(vs.relay().allow());
        if (!relayAllowed.names().isEmpty()) {
            LOG.warn("{}: relay.allow entries {} are domain names, which are not matched yet; they allow nobody",
                    vs.name(), relayAllowed.names());
        }
        List<RecipientPolicy> recipientPolicies = new ArrayList<>();
        recipientPolicies.add(new RecipientSyntax());
        if (vs.maxRecipientsPerMessage() != null) {
            recipientPolicies.add(new RecipientLimit(vs.maxRecipientsPerMessage()));
        }
        recipientPolicies.add(new RelayPolicy(config::isLocal, relayAllowed, vs.relay().allowAuthenticated()));
        List<MessagePolicy> messagePolicies = List.of(new HopCountPolicy(config.delivery().maxHopCount()));
        return new Intake(vs.name(), config.fqdn(), vs.reverseDnsLookup(), maxMessageBytes(vs),
                List.copyOf(recipientPolicies), messagePolicies, queue);
    }

    /** The configured limit, or, with no limit configured, the largest message a Kafka record can carry. */
    private static int maxMessageBytes(MailrootConfig.VirtualServer vs) {
        int recordLimit = KafkaClients.MAX_RECORD_BYTES - RECORD_OVERHEAD;
        Integer kb = vs.maxMessageSizeKb();
        return kb == null ? recordLimit : (int) Math.min(recordLimit, kb * 1024L);
    }

    private SMTPServer server(MailrootConfig.VirtualServer vs, String address, Intake intake) throws UnknownHostException {
        Optional<InetAddress> bind = "0.0.0.0".equals(address) || "::".equals(address)
                ? Optional.empty()
                : Optional.of(InetAddress.getByName(address));
        SMTPServer server = SMTPServer.port(vs.port())
                .bindAddress(bind)
                .hostName(config.fqdn())
                .softwareName("Mailroot")
                .serverThreadName("mailroot-smtp-" + vs.port() + "-" + address)
                .messageHandlerFactory(intake::open)
                .insertReceivedHeaders(false)
                .serverSocketFactory(NoDelayServerSocket::new)
                .maxMessageSize(intake.maxMessageBytes())
                // RecipientLimit answers with the enhanced code; SubEthaSMTP's own check would not.
                .maxRecipients(-1)
                // "No limit" must stay well below Integer.MAX_VALUE: SubEthaSMTP adds 10 to size a semaphore.
                .maxConnections(vs.maxConnections() == null ? UNLIMITED_CONNECTIONS : vs.maxConnections())
                .connectionTimeout((int) Math.min(Integer.MAX_VALUE, vs.connectionTimeout().toMillis()), TimeUnit.MILLISECONDS)
                .build();
        SmtpCommands.install(server);
        return server;
    }

    @Override
    public synchronized void close() {
        for (SMTPServer server : servers) {
            try {
                server.stop();
            } catch (RuntimeException e) {
                LOG.warn("stopping SMTP listener on port {}: {}", server.getPort(), e.toString());
            }
        }
        servers.clear();
        if (queue != null) {
            queue.close();
            queue = null;
        }
    }
}
