package io.mailroot.launcher;

import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.queue.QueueFilter;
import io.mailroot.queue.QueueReader;
import io.mailroot.queue.QueuedMessage;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * The messages queued now, as the queue view knows them: what a dry run matches an action against (tests give a
 * list of their own).
 */
interface QueueSnapshot {

    List<QueuedMessage> messages();

    /** The compacted {@code queue} topic, read whole by the queue view's own reader. */
    static QueueSnapshot fromTopic(KafkaClients clients, Topics topics) {
        return () -> {
            try {
                return new QueueReader(clients, topics, Duration.ofSeconds(60)).read(QueueFilter.ALL);
            } catch (TimeoutException e) {
                throw new IllegalStateException("could not read the queue topic " + topics.queueState()
                        + " within 60 s", e);
            }
        };
    }
}
