package io.mailroot.core.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventCodecTest {

    @Test
    void aDeferralSurvivesTheRoundTripAndLeavesUnusedFieldsOut() {
        MessageEvent e = new MessageEvent("m1", MessageEvent.Type.DEFERRED, Instant.parse("2026-12-03T10:00:00Z"),
                "node-a", "deliverer", "a@example.org", List.of("b@example.net"), 1234, null, "example.net",
                "mx.example.net [192.0.2.7]", "451 4.7.1 greylisted", 1, Instant.parse("2026-12-03T10:15:00Z"),
                null, null);
        byte[] json = EventCodec.encode(e);
        assertEquals(e, EventCodec.decode(json));
        String text = new String(json, StandardCharsets.UTF_8);
        assertFalse(text.contains("client"), text);
        assertFalse(text.contains("relatedId"), text);
    }
}
