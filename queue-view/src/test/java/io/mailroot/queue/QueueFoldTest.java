package io.mailroot.queue;

import static io.mailroot.queue.Events.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.event.MessageEvent.Type;
import io.mailroot.queue.QueuedMessage.QueuedRecipient;
import io.mailroot.queue.QueuedMessage.State;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class QueueFoldTest {

    private static final Instant T1 = T0.plusSeconds(1);
    private static final Instant T2 = T0.plusSeconds(2);
    private static final Instant DUE = T0.plusSeconds(900);

    private static QueuedMessage fold(MessageEvent... events) {
        QueuedMessage m = null;
        for (MessageEvent e : events) {
            m = QueueFold.apply(m, e);
        }
        return m;
    }

    private static QueuedRecipient rcpt(QueuedMessage m, String address) {
        return m.recipients().stream().filter(r -> r.address().equals(address)).findFirst().orElseThrow();
    }

    @Test
    void receivedCreatesTheMessageWithEveryRecipientActiveAndUnrouted() {
        QueuedMessage m = fold(Events.received("m1", "a@example.org", 1234, T0, "b@example.net", "c@example.com"));
        assertEquals("m1", m.id());
        assertEquals("a@example.org", m.sender());
        assertEquals(1234, m.size());
        assertEquals(T0, m.arrival());
        assertEquals(List.of(new QueuedRecipient("b@example.net", null, State.ACTIVE, null, 0, null),
                new QueuedRecipient("c@example.com", null, State.ACTIVE, null, 0, null)), m.recipients());
        assertEquals(State.ACTIVE, QueueName.of(m));
    }

    @Test
    void routedSetsTheNextHopOfItsRecipientsOnly() {
        QueuedMessage m = fold(Events.received("m1", "a@example.org", 10, T0, "b@example.net", "c@example.com"),
                Events.routed("m1", "example.net", T1, "b@example.net"));
        assertEquals("example.net", rcpt(m, "b@example.net").nextHop());
        assertNull(rcpt(m, "c@example.com").nextHop());
        assertEquals(T1, m.updatedAt());
    }

    @Test
    void deferredKeepsTheReplyAttemptsAndNextTry() {
        QueuedMessage m = fold(Events.received("m1", "a@example.org", 10, T0, "b@example.net"),
                Events.routed("m1", "example.net", T1, "b@example.net"),
                Events.deferred("m1", "example.net", T2, "451 4.7.1 greylisted", 1, DUE, "b@example.net"));
        assertEquals(new QueuedRecipient("b@example.net", "example.net", State.DEFERRED, "451 4.7.1 greylisted", 1, DUE),
                rcpt(m, "b@example.net"));
        assertEquals(State.DEFERRED, QueueName.of(m));
    }

    @Test
    void theLastRecipientDeliveredLeavesTheQueue() {
        QueuedMessage m = fold(Events.received("m1", "a@example.org", 10, T0, "b@example.net", "c@example.com"),
                Events.of(Type.DELIVERED, "m1", T1, "b@example.net"));
        assertEquals(List.of("c@example.com"), m.recipients().stream().map(QueuedRecipient::address).toList());
        QueuedMessage gone = QueueFold.apply(m, Events.of(Type.DELIVERED, "m1", T2, "c@example.com"));
        assertTrue(QueueFold.departed(gone));
    }

    @Test
    void failedDeletedExpiredAndBadmailRemoveRecipients() {
        for (Type t : List.of(Type.FAILED, Type.DELETED, Type.EXPIRED, Type.BADMAIL)) {
            QueuedMessage m = fold(Events.received("m1", "a@example.org", 10, T0, "b@example.net", "c@example.com"),
                    Events.of(t, "m1", T1, "B@EXAMPLE.NET"));
            assertEquals(List.of("c@example.com"), m.recipients().stream().map(QueuedRecipient::address).toList(), t.name());
            // An operator's event naming no recipient applies to all of them.
            assertTrue(QueueFold.departed(QueueFold.apply(m, Events.of(t, "m1", T2))), t.name());
        }
    }

    @Test
    void heldAndReleasedPutTheMessageOnHoldAndBackWhereItWas() {
        QueuedMessage deferred = fold(Events.received("m1", "a@example.org", 10, T0, "b@example.net"),
                Events.routed("m1", "example.net", T0, "b@example.net"),
                Events.deferred("m1", "example.net", T0, "451 busy", 1, DUE, "b@example.net"));
        QueuedMessage held = QueueFold.apply(deferred, Events.of(Type.HELD, "m1", T1));
        assertEquals(State.HOLD, rcpt(held, "b@example.net").state());
        assertEquals(State.HOLD, QueueName.of(held));
        // A deferral met while held does not end the hold.
        QueuedMessage stillHeld = QueueFold.apply(held, Events.deferred("m1", "example.net", T1, "451 again", 2, DUE,
                "b@example.net"));
        assertEquals(State.HOLD, rcpt(stillHeld, "b@example.net").state());
        assertEquals(2, rcpt(stillHeld, "b@example.net").attempts());
        assertEquals(State.DEFERRED, rcpt(QueueFold.apply(stillHeld, Events.of(Type.RELEASED, "m1", T2)), "b@example.net").state());
        // Released after the retry was due: ready to go.
        QueuedMessage late = QueueFold.apply(stillHeld, Events.of(Type.RELEASED, "m1", DUE.plusSeconds(1)));
        assertEquals(State.ACTIVE, rcpt(late, "b@example.net").state());
    }

    @Test
    void retryNowMakesDeferredRecipientsActive() {
        QueuedMessage m = fold(Events.received("m1", "a@example.org", 10, T0, "b@example.net"),
                Events.deferred("m1", "example.net", T0, "451 busy", 1, DUE, "b@example.net"),
                Events.of(Type.RETRY_NOW, "m1", T1));
        assertEquals(State.ACTIVE, rcpt(m, "b@example.net").state());
        assertNull(rcpt(m, "b@example.net").nextDue());
        assertEquals("451 busy", rcpt(m, "b@example.net").delayReason());
    }

    @Test
    void delayedAndReportSentChangeOnlyTheUpdateTime() {
        QueuedMessage m = fold(Events.received("m1", "a@example.org", 10, T0, "b@example.net"));
        QueuedMessage after = QueueFold.apply(QueueFold.apply(m, Events.of(Type.DELAYED, "m1", T1)),
                Events.of(Type.REPORT_SENT, "m1", T2));
        assertEquals(m.recipients(), after.recipients());
        assertEquals(T2, after.updatedAt());
    }

    @Test
    void routingFoldedBeforeReceivedIsKeptAndFilledIn() {
        QueuedMessage m = fold(Events.routed("m1", "example.net", T1, "b@example.net"),
                Events.received("m1", "a@example.org", 99, T0, "b@example.net", "c@example.com"));
        assertEquals("example.net", rcpt(m, "b@example.net").nextHop());
        assertNull(rcpt(m, "c@example.com").nextHop());
        assertEquals("a@example.org", m.sender());
        assertEquals(99, m.size());
        assertEquals(T0, m.arrival());
    }

    @Test
    void aReceivedLandingAfterTheMessageLeftDoesNotBringItBack() {
        QueuedMessage gone = fold(Events.routed("m1", "example.net", T1, "b@example.net"),
                Events.of(Type.DELIVERED, "m1", T1, "b@example.net"));
        assertTrue(QueueFold.departed(gone));
        assertSame(gone, QueueFold.apply(gone, Events.received("m1", "a@example.org", 10, T0, "b@example.net")));
    }

    @Test
    void eventsOfAMessageNeverSeenLeaveNothingUnlessTheyQueueIt() {
        assertNull(QueueFold.apply(null, Events.of(Type.DELIVERED, "m1", T0, "b@example.net")));
        assertNull(QueueFold.apply(null, Events.of(Type.HELD, "m1", T0)));
        QueuedMessage m = QueueFold.apply(null, Events.deferred("m1", "example.net", T0, "451 busy", 3, DUE, "b@example.net"));
        assertEquals(State.DEFERRED, QueueName.of(m));
        assertEquals(3, rcpt(m, "b@example.net").attempts());
    }

    @Test
    void foldingTheSameEventsTwiceFromTheSameStateGivesTheSameState() {
        List<MessageEvent> events = List.of(Events.received("m1", "a@example.org", 10, T0, "b@example.net"),
                Events.routed("m1", "example.net", T1, "b@example.net"),
                Events.deferred("m1", "example.net", T2, "451 busy", 1, DUE, "b@example.net"));
        assertEquals(fold(events.toArray(MessageEvent[]::new)), fold(events.toArray(MessageEvent[]::new)));
        assertEquals(QueueCodec.decode(QueueCodec.encode(fold(events.toArray(MessageEvent[]::new)))),
                fold(events.toArray(MessageEvent[]::new)));
    }
}
