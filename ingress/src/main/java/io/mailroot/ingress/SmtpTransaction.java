package io.mailroot.ingress;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.Recipient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;

/**
 * One mail transaction (MAIL FROM to the end of DATA). It keeps the SMTP state machine out of policy: each
 * question SubEthaSMTP asks is answered by the virtual server's policies, and the message is queued on
 * {@code inbound} before the client hears 250.
 */
final class SmtpTransaction implements MessageHandler {

    private final Intake intake;
    private final Client client;
    private String sender = "";
    private final List<String> recipients = new ArrayList<>();

    SmtpTransaction(Intake intake, MessageContext context) {
        this.intake = intake;
        InetAddress address = ((InetSocketAddress) context.getRemoteAddress()).getAddress();
        String name = intake.reverseDnsLookup() ? address.getCanonicalHostName() : null;
        // AUTH arrives with a later issue; until then every session is anonymous.
        this.client = new Client(address, name, context.getHelo().orElse(null), null);
    }

    @Override
    public void from(String from) {
        sender = from == null ? "" : from;
    }

    @Override
    public void recipient(String recipient) throws RejectException {
        for (RecipientPolicy policy : intake.recipientPolicies()) {
            Optional<SmtpReply> refusal = policy.check(client, recipient, recipients.size());
            if (refusal.isPresent()) {
                throw refusal.get().reject();
            }
        }
        recipients.add(recipient);
    }

    @Override
    public String data(InputStream data) throws RejectException, IOException {
        String id = MessageIds.next();
        Instant now = Instant.now();
        ByteArrayOutputStream message = new ByteArrayOutputStream(8192);
        message.writeBytes(ReceivedHeader.format(client, intake.fqdn(), id, ZonedDateTime.ofInstant(now, ZoneId.systemDefault()))
                .getBytes(StandardCharsets.US_ASCII));
        copyAtMost(data, message, intake.maxMessageBytes());
        byte[] bytes = message.toByteArray();
        for (MessagePolicy policy : intake.messagePolicies()) {
            Optional<SmtpReply> refusal = policy.check(client, bytes);
            if (refusal.isPresent()) {
                throw refusal.get().reject();
            }
        }
        Envelope envelope = Envelope.received(id, sender, recipients.stream().map(Recipient::of).toList(), now)
                .withClient(client.ip(), client.name(), client.helo(), client.authIdentity(), false, intake.virtualServer());
        if (!intake.queue().put(new MailRecord(envelope, bytes))) {
            throw new RejectException(451, "4.3.0 Queueing failed, try again later");
        }
        return "2.0.0 Ok: queued as " + id;
    }

    /** Reads the whole message unless it is larger than the limit; the caller drains what is left. */
    private static void copyAtMost(InputStream in, ByteArrayOutputStream out, int limit) throws IOException, RejectException {
        byte[] buffer = new byte[16 * 1024];
        long total = 0;
        int n;
        while ((n = in.read(buffer)) != -1) {
            total += n;
            if (total > limit) {
                throw new RejectException(552, "5.3.4 Message size exceeds fixed limit");
            }
            out.write(buffer, 0, n);
        }
    }

    @Override
    public void done() {
        // nothing held: the message is either queued or refused by the time SubEthaSMTP calls this
    }
}
