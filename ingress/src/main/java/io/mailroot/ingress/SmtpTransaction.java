package io.mailroot.ingress;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.Recipient;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.Session;

/**
 * One mail transaction (MAIL FROM to the end of DATA). It keeps the SMTP state machine out of policy: at each
 * protocol point (MAIL, RCPT, end of DATA) the virtual server's rules and policies answer, and the message is
 * queued on {@code inbound} before the client hears 250.
 */
final class SmtpTransaction implements MessageHandler {

    private final Intake intake;
    private final List<SenderPolicy> senderPolicies;
    private final MessageContext context;
    private final InetAddress address;
    private Client client;
    private boolean extended = true;
    private String sender = "";
    private EsmtpParameters.Mail mail = EsmtpParameters.Mail.NONE;
    private final List<Recipient> recipients = new ArrayList<>();

    SmtpTransaction(Intake intake, MessageContext context) {
        this.intake = intake;
        this.senderPolicies = intake.senderPolicies();
        this.context = context;
        this.address = ((InetSocketAddress) context.getRemoteAddress()).getAddress();
        this.client = client(null);
    }

    int maxMessageBytes() {
        return intake.maxMessageBytes();
    }

    /**
     * MAIL FROM: the virtual server's sender policies (TLS, AUTH, declared size, session budget) must all agree.
     * A refusal with 421 means the connection is to be closed after it.
     *
     * @param reversePath the sender, "" for the null sender
     */
    void mailFrom(String reversePath, EsmtpParameters.Mail parameters, SessionLedger session) throws RejectException {
        Client candidate = client(session);
        SenderPolicy.Mail mail = new SenderPolicy.Mail(candidate, tls(), reversePath, parameters.size(),
                session == null ? 0 : session.bodyBytes());
        for (SenderPolicy policy : senderPolicies) {
            Optional<SmtpReply> refusal = policy.check(mail);
            if (refusal.isPresent()) {
                IngressMetrics.refused("mail", refusal.get().toString());
                throw refusal.get().reject();
            }
        }
        this.client = candidate;
        this.extended = session == null || session.extended;
        this.sender = reversePath;
        this.mail = parameters;
    }

    /**
     * RCPT TO: the first policy that objects answers the client.
     *
     * @return the recipient as queued
     */
    String rcptTo(MailboxAddress forwardPath, EsmtpParameters.Rcpt parameters) throws RejectException {
        return accept(forwardPath, forwardPath.address(), parameters);
    }

    /**
     * RCPT TO:&lt;postmaster&gt; without a domain, which RFC 5321 section 4.5.1 has every server accept for itself.
     * The policies judge it as {@link MailboxAddress#DOMAINLESS_POSTMASTER} (local by definition: {@link RelayPolicy}
     * never refuses it); the envelope gets {@code postmaster@fqdn}.
     *
     * @return the recipient as queued
     */
    String rcptToPostmaster(EsmtpParameters.Rcpt parameters) throws RejectException {
        return accept(MailboxAddress.DOMAINLESS_POSTMASTER, "postmaster@" + intake.fqdn().toLowerCase(Locale.ROOT), parameters);
    }

    private String accept(MailboxAddress judged, String queuedAs, EsmtpParameters.Rcpt parameters) throws RejectException {
        for (RecipientPolicy policy : intake.recipientPolicies()) {
            Optional<SmtpReply> refusal = policy.check(client, judged, recipients.size());
            if (refusal.isPresent()) {
                IngressMetrics.refused("rcpt", refusal.get().toString());
                throw refusal.get().reject();
            }
        }
        recipients.add(new Recipient(queuedAs, parameters.notifyOn(), parameters.orcpt(), null));
        return queuedAs;
    }

    /**
     * The end of DATA: what the reader found, then the message policies, then the queue.
     *
     * @return the reply to the end of DATA; 250 only once Kafka holds the message
     */
    SmtpReply receive(DataReader.Body body, SessionLedger session) {
        SmtpReply reply = judge(body, session);
        if (reply.code() != 250) {
            IngressMetrics.refused("data", reply.toString());
        }
        return reply;
    }

    private SmtpReply judge(DataReader.Body body, SessionLedger session) {
        if (session != null) {
            session.addBodyBytes(body.size());
        }
        if (body.truncated()) {
            return SmtpReply.of(552, "5.3.4 Message size exceeds fixed limit");
        }
        if (body.bareLineEnd()) {
            return SmtpReply.of(550, "5.6.11 Bare CR or LF in message (RFC 5321 2.3.8)");
        }
        if (body.longLine()) {
            return SmtpReply.of(552, "5.3.4 Line too long (RFC 5321 4.5.3.1.6)");
        }
        return queue(body.bytes());
    }

    private SmtpReply queue(byte[] received) {
        String id = MessageIds.next();
        Instant now = Instant.now();
        boolean tls = tls();
        String auth = client.authIdentity();
        byte[] message = ReceivedHeader.prepend(ReceivedHeader.format(client, intake.reverseDnsLookup(),
                ReceivedHeader.protocol(extended, tls, auth != null), intake.fqdn(), id,
                ZonedDateTime.ofInstant(now, ZoneId.systemDefault())), received);
        for (MessagePolicy policy : intake.messagePolicies()) {
            Optional<SmtpReply> refusal = policy.check(client, message);
            if (refusal.isPresent()) {
                return refusal.get();
            }
        }
        Envelope envelope = Envelope.received(id, sender, recipients, now)
                .withClient(client.ip(), client.name(), client.helo(), auth, tls, intake.virtualServer())
                .withDsn(mail.envId(), mail.ret());
        if (!intake.queue().put(new MailRecord(envelope, message))) {
            return SmtpReply.of(451, "4.3.0 Queueing failed, try again later");
        }
        return SmtpReply.of(250, "2.0.0 Ok: queued as " + id);
    }

    private Client client(SessionLedger session) {
        String name = intake.reverseDnsLookup() && session != null && context instanceof Session s
                ? session.reverseName(s) : null;
        return new Client(address, name, context.getHelo().orElse(null), authIdentity());
    }

    private boolean tls() {
        return context instanceof Session s && s.isTLSStarted();
    }

    /** Who the session authenticated as, from SubEthaSMTP's authentication handler; null when anonymous. */
    private String authIdentity() {
        return context.getAuthenticationHandler()
                .map(h -> h.getIdentity() == null ? null : String.valueOf(h.getIdentity()))
                .orElse(null);
    }

    // MessageHandler: Mailroot's own MAIL, RCPT and DATA commands call the methods above. These remain for a
    // server assembled with SubEthaSMTP's stock commands, and hold it to the same policies.

    @Override
    public void from(String from) throws RejectException {
        mailFrom(from == null ? "" : from, EsmtpParameters.Mail.NONE, null);
    }

    @Override
    public void recipient(String recipient) throws RejectException {
        if (MailboxAddress.isDomainlessPostmaster(recipient)) {
            rcptToPostmaster(EsmtpParameters.Rcpt.NONE);
            return;
        }
        Optional<MailboxAddress> mailbox = MailboxAddress.tryParse(recipient);
        if (mailbox.isEmpty()) {
            throw SmtpReply.of(501, "5.1.3 Bad recipient address syntax").reject();
        }
        rcptTo(mailbox.get(), EsmtpParameters.Rcpt.NONE);
    }

    @Override
    public String data(InputStream data) throws RejectException, IOException {
        int max = intake.maxMessageBytes();
        byte[] bytes = data.readNBytes(max + 1);
        SmtpReply reply = receive(new DataReader.Body(Arrays.copyOf(bytes, Math.min(max, bytes.length)), bytes.length,
                false, false), null);
        if (reply.code() != 250) {
            throw reply.reject();
        }
        return reply.text();
    }

    @Override
    public void done() {
        // nothing held: the message is either queued or refused by the time SubEthaSMTP calls this
    }
}
