package io.mailroot.core.kafka;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Recipient;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The record that hands recipients in local domains ({@code MailrootConfig.isLocal}) to the Drop writer, from the
 * router or from a deliverer that met them. Keyed by the first recipient's domain, so one domain's local mail keeps
 * to one partition whoever writes it.
 */
public final class LocalRecord {

    private LocalRecord() {
    }

    public static ProducerRecord<String, byte[]> of(Topics topics, Envelope envelope, List<Recipient> local,
                                                    byte[] message) {
        if (local.isEmpty()) {
            throw new IllegalArgumentException("a local record needs a local recipient");
        }
        return EnvelopeCodec.toRecord(topics.local(), local.get(0).domain(),
                new MailRecord(envelope.withRecipients(local), message));
    }
}
