package io.mailroot.core.control;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.mailroot.core.message.EnvelopeCodec.MalformedRecordException;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.clients.producer.ProducerRecord;

/** A {@link ControlAction} as a record of the compacted {@code control} topic: key {@link ControlAction#key()}, value JSON. */
public final class ControlCodec {

    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setDefaultPropertyInclusion(JsonInclude.Include.NON_DEFAULT);

    private ControlCodec() {
    }

    public static byte[] encode(ControlAction action) {
        try {
            return JSON.writeValueAsBytes(action);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static ControlAction decode(byte[] json) {
        try {
            return JSON.readValue(json, ControlAction.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new MalformedRecordException("control action is not valid: " + e.getMessage(), e);
        }
    }

    public static ProducerRecord<String, byte[]> toRecord(String topic, ControlAction action) {
        return new ProducerRecord<>(topic, action.key(), encode(action));
    }
}
