package io.mailroot.launcher;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.control.ControlAction;
import io.mailroot.core.control.ControlAction.Verb;
import io.mailroot.core.control.ControlCodec;
import io.mailroot.core.message.MessageIds;
import io.mailroot.queue.QueuedMessage;
import io.mailroot.queue.QueuedMessage.QueuedRecipient;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * {@code mailroot queue retry-now|hold|release|delete|expire}: an operator's action on queued mail, written to the
 * compacted {@code control} topic (acks=all) for every deliverer and retry node to apply; {@code --dry-run} shows
 * what the queue view says would match and writes nothing. Exit codes: 0 asked (or shown), 1 could not be written,
 * 2 usage.
 */
final class QueueActionCommand {

    static final String USAGE = """
            usage: mailroot queue retry-now ID|DOMAIN [--dry-run]      attempt now what waits to be retried
                   mailroot queue hold ID|DOMAIN [--dry-run]           keep mail from delivery until released
                   mailroot queue release ID|DOMAIN [--dry-run]        deliver held mail now
                   mailroot queue delete ID|DOMAIN [--report] [--dry-run]   drop mail; --report tells the sender
                   mailroot queue expire ID|DOMAIN [--dry-run]         fail mail now, as if it had expired (4.4.7)
            An argument in the form of a queue id (MIRB1K3D.0F1E2D3C4B5A6978) names one message, anything else a
            recipient domain or next hop; --id ID or --domain DOMAIN says which.""";

    private static final Map<String, Verb> VERBS = Map.of("retry-now", Verb.RETRY_NOW, "hold", Verb.HOLD,
            "release", Verb.RELEASE, "delete", Verb.DELETE, "expire", Verb.EXPIRE);

    private QueueActionCommand() {
    }

    /** Whether {@code args} (after {@code queue}) is one of these subcommands. */
    static boolean handles(List<String> args) {
        return !args.isEmpty() && VERBS.containsKey(args.get(0));
    }

    static int run(List<String> args, MailrootConfig config) {
        CommandClients kafka = CommandClients.of(config);
        return run(args, kafka, QueueSnapshot.fromTopic(kafka.clients(), kafka.topics()),
                System.getProperty("user.name", "operator"), System.out, System.err);
    }

    /** What was asked on the command line. */
    record Request(Verb verb, String messageId, String domain, boolean withReport, boolean dryRun) {
    }

    static int run(List<String> args, CommandClients kafka, QueueSnapshot queue, String operator, PrintStream out,
                   PrintStream err) {
        Request request;
        try {
            request = parse(args);
        } catch (IllegalArgumentException e) {
            err.println("mailroot: " + e.getMessage() + "\n" + USAGE);
            return 2;
        }
        String what = verbName(request.verb()) + (request.messageId() != null ? " message " + request.messageId()
                : " domain " + request.domain()) + (request.withReport() ? " with a report" : "");
        if (request.dryRun()) {
            List<QueuedMessage> matches = queue.messages().stream().filter(m -> matches(m, request)).toList();
            out.printf("dry run: %s would match %d queued message(s)%n", what, matches.size());
            for (QueuedMessage m : matches) {
                out.println(line(m, request));
            }
            out.println("nothing was written to " + kafka.topics().control());
            return 0;
        }
        ControlAction action = new ControlAction(UUID.randomUUID().toString(), request.verb(), request.messageId(),
                request.domain(), request.withReport(), Instant.now(), operator);
        try (KafkaProducer<String, byte[]> producer = kafka.clients().producer("mailroot-queue-command")) {
            producer.send(ControlCodec.toRecord(kafka.topics().control(), action)).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            err.println("mailroot: could not write the action to " + kafka.topics().control() + ": "
                    + (e.getCause() != null ? e.getCause() : e));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
        out.printf("asked: %s (action %s, by %s, at %s)%n", what, action.id(), operator, action.requestedAt());
        out.printf("written to %s; every deliverer and retry node applies it to the mail it holds%n",
                kafka.topics().control());
        return 0;
    }

    static Request parse(List<String> args) {
        if (args.isEmpty() || !VERBS.containsKey(args.get(0))) {
            throw new IllegalArgumentException("unknown queue command " + (args.isEmpty() ? "" : "'" + args.get(0) + "'"));
        }
        Verb verb = VERBS.get(args.get(0));
        boolean dryRun = false;
        boolean report = false;
        String id = null;
        String domain = null;
        List<String> plain = new ArrayList<>();
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--dry-run" -> dryRun = true;
                case "--report" -> {
                    if (verb != Verb.DELETE) {
                        throw new IllegalArgumentException("--report is for 'queue delete' only");
                    }
                    report = true;
                }
                case "--id", "--domain" -> {
                    if (i + 1 >= args.size()) {
                        throw new IllegalArgumentException(a + " needs a value");
                    }
                    String v = args.get(++i);
                    if (a.equals("--id")) {
                        id = v;
                    } else {
                        domain = v;
                    }
                }
                default -> {
                    if (a.startsWith("--")) {
                        throw new IllegalArgumentException("unknown option '" + a + "'");
                    }
                    plain.add(a);
                }
            }
        }
        for (String p : plain) {
            if (MessageIds.isId(p)) {
                id = id == null ? p : fail("more than one message id");
            } else {
                domain = domain == null ? p : fail("more than one domain");
            }
        }
        if ((id == null) == (domain == null)) {
            throw new IllegalArgumentException("'queue " + args.get(0) + "' needs one message id or one domain");
        }
        if (id != null && !MessageIds.isId(id)) {
            throw new IllegalArgumentException("'" + id + "' is not a queue id (like MIRB1K3D.0F1E2D3C4B5A6978)");
        }
        if (domain != null) {
            domain = domain.toLowerCase(Locale.ROOT);
            if (domain.isBlank() || domain.contains("@") || domain.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("'" + domain + "' is not a domain or next hop");
            }
        }
        return new Request(verb, id, domain, report, dryRun);
    }

    private static String fail(String why) {
        throw new IllegalArgumentException(why);
    }

    private static String verbName(Verb v) {
        return v.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static boolean matches(QueuedMessage m, Request r) {
        if (r.messageId() != null) {
            return m.id().equals(r.messageId());
        }
        return m.recipients().stream().anyMatch(rc -> inDomain(rc, r.domain()));
    }

    private static boolean inDomain(QueuedRecipient rc, String domain) {
        String address = rc.address() == null ? "" : rc.address();
        if (address.substring(address.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT).equals(domain)) {
            return true;
        }
        if (rc.nextHop() == null) {
            return false;
        }
        String hop = rc.nextHop().toLowerCase(Locale.ROOT);
        int shard = hop.lastIndexOf('#');
        String plain = shard > 0 ? hop.substring(0, shard) : hop;
        return hop.equals(domain) || plain.equals(domain) || plain.equals("[" + domain + "]");
    }

    private static String line(QueuedMessage m, Request r) {
        StringBuilder b = new StringBuilder("  ").append(m.id()).append("  ")
                .append(m.sender() == null || m.sender().isEmpty() ? "<>" : m.sender());
        for (QueuedRecipient rc : m.recipients()) {
            if (r.domain() != null && !inDomain(rc, r.domain())) {
                continue;
            }
            b.append("\n      ").append(rc.address()).append("  ")
                    .append(rc.state() == null ? "?" : rc.state().name().toLowerCase(Locale.ROOT));
            if (rc.attempts() > 0) {
                b.append(", ").append(rc.attempts()).append(rc.attempts() == 1 ? " attempt" : " attempts");
            }
            if (rc.nextDue() != null) {
                b.append(", next ").append(rc.nextDue());
            }
            if (rc.delayReason() != null) {
                b.append(", last: ").append(rc.delayReason());
            }
        }
        return b.toString();
    }
}
