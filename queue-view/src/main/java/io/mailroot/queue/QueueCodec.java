package io.mailroot.queue;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.mailroot.core.message.EnvelopeCodec.MalformedRecordException;
import java.io.IOException;
import java.io.UncheckedIOException;

/** A {@link QueuedMessage} as the value of a {@code queue} record: compact JSON, nulls left out. */
public final class QueueCodec {

    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    private QueueCodec() {
    }

    public static byte[] encode(QueuedMessage message) {
        try {
            return JSON.writeValueAsBytes(message);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static QueuedMessage decode(byte[] json) {
        try {
            return JSON.readValue(json, QueuedMessage.class);
        } catch (IOException e) {
            throw new MalformedRecordException("queue record is not valid JSON: " + e.getMessage(), e);
        }
    }
}
