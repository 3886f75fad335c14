package io.mailroot.core.message;

import io.mailroot.core.json.RecordJson;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** Puts a {@link MailRecord} on a Kafka record and takes it off again: raw bytes as value, envelope as a JSON header. */
public final class EnvelopeCodec {

    public static final String HEADER = "mailroot-envelope";

    private static final RecordJson<Envelope> JSON = RecordJson.nonNull(Envelope.class, "envelope header");

    private EnvelopeCodec() {
    }

    public static byte[] encode(Envelope envelope) {
        return JSON.encode(envelope);
    }

    public static Envelope decode(byte[] json) {
        return JSON.decode(json);
    }

    public static ProducerRecord<String, byte[]> toRecord(String topic, String key, MailRecord mail) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(new RecordHeader(HEADER, encode(mail.envelope())));
        return new ProducerRecord<>(topic, null, key, mail.message(), headers);
    }

    public static MailRecord fromRecord(ConsumerRecord<String, byte[]> record) {
        Header header = record.headers().lastHeader(HEADER);
        if (header == null) {
            throw new MalformedRecordException("record " + record.topic() + "-" + record.partition() + "@"
                    + record.offset() + " has no " + HEADER + " header", null);
        }
        return new MailRecord(decode(header.value()), record.value() == null ? new byte[0] : record.value());
    }

    /** A record no role can make sense of; it is kept in Badmail and skipped rather than blocking its partition forever. */
    public static final class MalformedRecordException extends RuntimeException {
        public MalformedRecordException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
