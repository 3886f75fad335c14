package io.mailroot.core.event;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.mailroot.core.message.EnvelopeCodec.MalformedRecordException;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A {@link MessageEvent} as a record of the {@code events} topic: key the message id, value compact JSON (a
 * typical event is 150 to 300 bytes before the topic's compression).
 */
public final class EventCodec {

    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setDefaultPropertyInclusion(JsonInclude.Include.NON_DEFAULT);

    private EventCodec() {
    }

    public static byte[] encode(MessageEvent event) {
        try {
            return JSON.writeValueAsBytes(event);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static MessageEvent decode(byte[] json) {
        try {
            return JSON.readValue(json, MessageEvent.class);
        } catch (IOException e) {
            throw new MalformedRecordException("event is not valid JSON: " + e.getMessage(), e);
        }
    }

    public static ProducerRecord<String, byte[]> toRecord(String topic, MessageEvent event) {
        return new ProducerRecord<>(topic, event.messageId(), encode(event));
    }
}
