package io.mailroot.launcher;

import io.mailroot.core.config.Durations;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.queue.QueueFilter;
import io.mailroot.queue.QueueListing;
import io.mailroot.queue.QueueReader;
import io.mailroot.queue.QueueShape;
import io.mailroot.queue.QueueSummary;
import io.mailroot.queue.QueuedMessage;
import io.mailroot.queue.QueuedMessage.State;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * {@code mailroot queue}: what waits and why, as the queue view ({@code QueueViewRole}) folded it from
 * {@code events} into the {@code queue} topic. It reads that topic only, so listing never slows delivery. Exit
 * codes: 0 listed, 1 Kafka not reached in time, 2 usage.
 */
final class QueueCommand {

    static final String USAGE = """
            usage: mailroot queue [FILTERS] [--json]        the queued messages (mailq; --json: postqueue -j, one per line)
                   mailroot queue summary [FILTERS]         per next hop: messages, recipients, oldest, last error
                   mailroot queue shape [--by sender] [FILTERS]   messages by domain and age in minutes (qshape)
            filters: --domain DOMAIN (a recipient's)  --sender TEXT (part of it; <address> exactly, <> null sender)
                     --older-than 30m  --state active|deferred|hold
            actions: mailroot queue retry-now|hold|release|delete [--report]|expire ID|DOMAIN [--dry-run]""";

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private QueueCommand() {
    }

    static int run(List<String> args, MailrootConfig config) {
        // The operator's actions (retry-now, hold, release, delete, expire) go on the control topic.
        if (QueueActionCommand.handles(args)) {
            return QueueActionCommand.run(args, config);
        }
        CommandClients kafka = CommandClients.of(config);
        return run(args, kafka.clients(), kafka.topics(), System.out, System.err, Clock.systemUTC());
    }

    static int run(List<String> args, KafkaClients clients, Topics topics, PrintStream out, PrintStream err, Clock clock) {
        List<String> rest = new ArrayList<>(args);
        String verb = rest.isEmpty() || rest.get(0).startsWith("--") ? "list" : rest.remove(0);
        try {
            return switch (verb) {
                case "list" -> {
                    boolean json = rest.remove("--json");
                    List<QueuedMessage> q = read(clients, topics, filter(rest), clock);
                    if (json) {
                        QueueListing.json(q, out);
                    } else {
                        QueueListing.text(q, out);
                    }
                    yield 0;
                }
                case "summary" -> {
                    QueueSummary.print(read(clients, topics, filter(rest), clock), clock.instant(), out);
                    yield 0;
                }
                case "shape" -> {
                    QueueShape.By by = by(rest);
                    QueueShape.print(read(clients, topics, filter(rest), clock), by, clock.instant(), out);
                    yield 0;
                }
                case "help", "--help" -> {
                    out.println(USAGE);
                    yield 0;
                }
                default -> {
                    err.println("mailroot: unknown queue command '" + verb + "'\n" + USAGE);
                    yield 2;
                }
            };
        } catch (Usage e) {
            err.println("mailroot: " + e.getMessage() + "\n" + USAGE);
            return 2;
        } catch (TimeoutException | IllegalStateException | org.apache.kafka.common.KafkaException e) {
            err.println("mailroot: cannot read the queue from Kafka at " + clients.bootstrap() + ": " + e.getMessage()
                    + " (is the relay running, and kafka.bootstrap right?)");
            return 1;
        }
    }

    private static List<QueuedMessage> read(KafkaClients clients, Topics topics, QueueFilter filter, Clock clock)
            throws TimeoutException {
        return new QueueReader(clients, topics, TIMEOUT).read(filter, clock.instant());
    }

    /** Takes the filter options out of {@code args}; anything left over is a usage error. */
    static QueueFilter filter(List<String> args) {
        String domain = value(args, "--domain");
        String sender = value(args, "--sender");
        String age = value(args, "--older-than");
        String state = value(args, "--state");
        if (!args.isEmpty()) {
            throw new Usage("unexpected arguments " + args);
        }
        Duration olderThan = null;
        if (age != null) {
            olderThan = Durations.parse(age);
            if (olderThan == null) {
                throw new Usage("--older-than '" + age + "' is not a duration such as 30s, 30m, 12h, 2d");
            }
        }
        State s = null;
        if (state != null) {
            try {
                s = State.valueOf(state.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new Usage("--state '" + state + "' is not one of active, deferred, hold");
            }
        }
        return new QueueFilter(domain, sender, olderThan, s);
    }

    private static QueueShape.By by(List<String> args) {
        String by = value(args, "--by");
        if (by == null || by.equals("recipient")) {
            return QueueShape.By.RECIPIENT;
        }
        if (by.equals("sender")) {
            return QueueShape.By.SENDER;
        }
        throw new Usage("--by '" + by + "' is not one of recipient, sender");
    }

    private static String value(List<String> args, String name) {
        int i = args.indexOf(name);
        if (i < 0) {
            return null;
        }
        if (i + 1 >= args.size()) {
            throw new Usage(name + " needs a value");
        }
        String v = args.remove(i + 1);
        args.remove(i);
        return v;
    }

    /** A command line this command does not understand. */
    static final class Usage extends IllegalArgumentException {
        Usage(String message) {
            super(message);
        }
    }
}
