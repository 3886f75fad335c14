package io.mailroot.core.json;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.mailroot.core.message.EnvelopeCodec.MalformedRecordException;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One value type as the JSON Mailroot puts on its topics: times as ISO-8601 text, unknown fields ignored (a newer
 * node may add some), unset fields left out. Reading what is not valid JSON of the type throws
 * {@link MalformedRecordException}, which every role turns into a Badmail entry or a skipped record.
 *
 * @param what how errors name the value, e.g. "envelope header"
 */
public record RecordJson<T>(Class<T> type, String what, ObjectMapper mapper) {

    /** Nulls left out; false and 0 written (the envelope's flags are read by older nodes). */
    public static <T> RecordJson<T> nonNull(Class<T> type, String what) {
        return new RecordJson<>(type, what, mapper(JsonInclude.Include.NON_NULL));
    }

    /** Nulls, false, 0 and empty lists left out: the smallest record, for values written often (events). */
    public static <T> RecordJson<T> nonDefault(Class<T> type, String what) {
        return new RecordJson<>(type, what, mapper(JsonInclude.Include.NON_DEFAULT));
    }

    private static ObjectMapper mapper(JsonInclude.Include inclusion) {
        return new ObjectMapper()
                .registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .setDefaultPropertyInclusion(inclusion);
    }

    public byte[] encode(T value) {
        try {
            return mapper.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A value the type's own checks refuse (a record constructor throwing) is malformed too. */
    public T decode(byte[] json) {
        try {
            return mapper.readValue(json, type);
        } catch (IOException | IllegalArgumentException e) {
            throw new MalformedRecordException(what + " is not valid JSON: " + e.getMessage(), e);
        }
    }
}
