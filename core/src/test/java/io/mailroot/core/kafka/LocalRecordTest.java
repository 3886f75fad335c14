package io.mailroot.core.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.Recipient;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class LocalRecordTest {

    private final Topics topics = new Topics("t.", 2);

    @Test
    void carriesOnlyTheLocalRecipientsKeyedByTheFirstOnesDomain() {
        Envelope env = Envelope.received("ID1", "alice@a.test",
                List.of(Recipient.of("x@remote.test"), Recipient.of("bob@Local.test"), Recipient.of("c@other.local")),
                Instant.now());
        byte[] message = "Subject: hi\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

        ProducerRecord<String, byte[]> r = LocalRecord.of(topics, env,
                List.of(env.recipients().get(1), env.recipients().get(2)), message);

        assertEquals("t.local", r.topic());
        assertEquals(env.recipients().get(1).domain(), r.key());
        Envelope carried = EnvelopeCodec.decode(r.headers().lastHeader(EnvelopeCodec.HEADER).value());
        assertEquals(List.of(env.recipients().get(1).address(), "c@other.local"),
                carried.recipients().stream().map(Recipient::address).toList());
        assertEquals("ID1", carried.id());
        assertArrayEquals(message, r.value());
        assertThrows(IllegalArgumentException.class, () -> LocalRecord.of(topics, env, List.of(), message));
    }
}
