package io.mailroot.core.event;

import io.mailroot.core.json.RecordJson;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A {@link MessageEvent} as a record of the {@code events} topic: key the message id, value compact JSON (a
 * typical event is 150 to 300 bytes before the topic's compression).
 */
public final class EventCodec {

    private static final RecordJson<MessageEvent> JSON = RecordJson.nonDefault(MessageEvent.class, "event");

    private EventCodec() {
    }

    public static byte[] encode(MessageEvent event) {
        return JSON.encode(event);
    }

    public static MessageEvent decode(byte[] json) {
        return JSON.decode(json);
    }

    public static ProducerRecord<String, byte[]> toRecord(String topic, MessageEvent event) {
        return new ProducerRecord<>(topic, event.messageId(), encode(event));
    }
}
