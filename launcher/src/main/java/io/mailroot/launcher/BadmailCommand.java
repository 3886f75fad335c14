package io.mailroot.launcher;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.event.EventCodec;
import io.mailroot.core.event.MessageEvent;
import io.mailroot.core.folder.Badmail;
import io.mailroot.core.folder.BadmailEnvelope;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.text.ClientText;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * {@code mailroot badmail list|show NAME|resubmit NAME|delete NAME}: the Badmail folder's {@code .bad} messages
 * and their {@code .bdr} reasons. Resubmit puts the message back on {@code inbound} under a new id, from the sender
 * to the recipients its reason names (or {@code --from}, {@code --to}), and removes the files only after Kafka
 * acknowledged it. Exit codes: 0 done, 1 refused (no such entry, no recipients known, Kafka not reached), 2 usage.
 */
final class BadmailCommand {

    static final String USAGE = """
            usage: mailroot badmail list                     the kept messages: name, time, size, why
                   mailroot badmail show NAME                its reason and the message's headers
                   mailroot badmail resubmit NAME [--to ADDRESS[,ADDRESS...]] [--from ADDRESS]
                                                              back on inbound (recipients from the reason unless --to)
                   mailroot badmail delete NAME              remove the message and its reason""";

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    private BadmailCommand() {
    }

    static int run(List<String> args, MailrootConfig config) {
        Supplier<KafkaClients> clients = () -> CommandClients.of(config).clients();
        // The configured node id, not NodeId.of: a command must not create dataDir/node-id (it may not even own it).
        String node = config.nodeId() != null ? config.nodeId() : "cli";
        Topics topics = new Topics(config.kafka().topicPrefix(), config.delivery().retryIntervals().size());
        return run(args, new Badmail(config.badmailDir()), clients, topics, node,
                System.out, System.err, Clock.systemUTC());
    }

    /** @param clients made only for resubmit, the one action that needs Kafka */
    static int run(List<String> args, Badmail badmail, Supplier<KafkaClients> clients, Topics topics, String node,
                   PrintStream out, PrintStream err, Clock clock) {
        List<String> rest = new ArrayList<>(args);
        String verb = rest.isEmpty() ? "" : rest.remove(0);
        try {
            switch (verb) {
                case "list" -> {
                    return rest.isEmpty() ? list(badmail, out) : usage(err, "'badmail list' takes no arguments");
                }
                case "show", "delete" -> {
                    if (rest.size() != 1) {
                        return usage(err, "'badmail " + verb + "' needs one NAME (see 'mailroot badmail list')");
                    }
                    Optional<Badmail.Entry> entry = badmail.entry(rest.get(0));
                    if (entry.isEmpty()) {
                        return missing(err, badmail, rest.get(0));
                    }
                    return verb.equals("show") ? show(badmail, entry.get(), out) : delete(badmail, entry.get(), out);
                }
                case "resubmit" -> {
                    String to = value(rest, "--to");
                    String from = value(rest, "--from");
                    if (rest.size() != 1) {
                        return usage(err, "'badmail resubmit' needs one NAME, and takes --to and --from");
                    }
                    Optional<Badmail.Entry> entry = badmail.entry(rest.get(0));
                    if (entry.isEmpty()) {
                        return missing(err, badmail, rest.get(0));
                    }
                    return resubmit(badmail, entry.get(), to, from, clients, topics, node, out, err, clock);
                }
                default -> {
                    return usage(err, verb.isEmpty() ? "'badmail' needs a command" : "unknown badmail command '" + verb + "'");
                }
            }
        } catch (IllegalArgumentException e) {
            return usage(err, e.getMessage());
        } catch (IOException e) {
            err.println("mailroot: Badmail folder " + badmail.dir() + ": " + e);
            return 1;
        }
    }

    private static int list(Badmail badmail, PrintStream out) throws IOException {
        List<Badmail.Entry> entries = badmail.list();
        if (entries.isEmpty()) {
            out.println("Badmail folder " + badmail.dir() + " is empty");
            return 0;
        }
        int width = Math.max(4, entries.stream().mapToInt(e -> e.name().length()).max().orElse(0));
        out.printf("%-" + width + "s  %-20s  %9s  %s%n", "NAME", "KEPT", "SIZE", "REASON");
        for (Badmail.Entry e : entries) {
            String why = ClientText.forLog(e.headline());
            out.printf("%-" + width + "s  %-20s  %9d  %s%n", e.name(), TIME.format(e.keptAt()), e.size(),
                    why.length() > 100 ? why.substring(0, 100) + "..." : why);
        }
        out.printf("-- %d message%s, %d Kbytes%n", entries.size(), entries.size() == 1 ? "" : "s",
                (entries.stream().mapToLong(Badmail.Entry::size).sum() + 1023) / 1024);
        return 0;
    }

    private static int show(Badmail badmail, Badmail.Entry e, PrintStream out) throws IOException {
        out.println("Name: " + e.name());
        out.println("Kept: " + TIME.format(e.keptAt()));
        out.println("Size: " + e.size());
        out.println();
        out.println(e.reason().isEmpty() ? "(no reason file)" : terminalSafe(e.reason()).stripTrailing());
        out.println();
        out.println("Headers:");
        out.println(terminalSafe(headers(badmail.message(e.name()))));
        return 0;
    }

    private static int delete(Badmail badmail, Badmail.Entry e, PrintStream out) throws IOException {
        badmail.delete(e.name());
        out.println("deleted " + e.name() + " from " + badmail.dir());
        return 0;
    }

    private static int resubmit(Badmail badmail, Badmail.Entry e, String to, String from, Supplier<KafkaClients> clients,
                                Topics topics, String node, PrintStream out, PrintStream err, Clock clock)
            throws IOException {
        BadmailEnvelope known = BadmailEnvelope.parse(e.reason());
        List<String> recipients = to != null
                ? Arrays.stream(to.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList() : known.recipients();
        String sender = from != null ? from.replaceAll("^<(.*)>$", "$1") : known.sender();
        if (recipients.isEmpty()) {
            err.println("mailroot: the reason of " + e.name() + " names no recipients; give them with --to ADDRESS[,ADDRESS...]");
            return 1;
        }
        if (sender == null) {
            err.println("mailroot: the reason of " + e.name() + " names no sender; give it with --from ADDRESS (--from '<>' for the null sender)");
            return 1;
        }
        byte[] message = badmail.message(e.name());
        Instant now = clock.instant();
        Envelope envelope = Envelope.received(MessageIds.next(), sender, recipients.stream().map(Recipient::of).toList(), now)
                .withClient(null, "mailroot badmail resubmit", null, null, false, null);
        KafkaClients k = clients.get();
        try (KafkaProducer<String, byte[]> producer = k.producer("mailroot-badmail-resubmit")) {
            producer.send(EnvelopeCodec.toRecord(topics.inbound(), envelope.id(), new MailRecord(envelope, message)))
                    .get(30, TimeUnit.SECONDS);
            try {
                // The trail says where the message came from; it is history, so a failure here is only told.
                producer.send(EventCodec.toRecord(topics.events(), new MessageEvent(envelope.id(), MessageEvent.Type.RECEIVED,
                        now, node, "operator", sender, recipients, message.length, "mailroot badmail resubmit", null, null,
                        null, 0, null, e.name(), "resubmitted from Badmail by " + System.getProperty("user.name"))))
                        .get(30, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException ex) {
                err.println("mailroot: warning: the RECEIVED event of " + envelope.id() + " was not written: " + ex);
            }
        } catch (ExecutionException | TimeoutException | org.apache.kafka.common.KafkaException ex) {
            err.println("mailroot: " + e.name() + " was not resubmitted (Kafka at " + k.bootstrap() + ": "
                    + (ex instanceof ExecutionException ? ex.getCause() : ex) + "); it stays in Badmail");
            return 1;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            err.println("mailroot: interrupted; " + e.name() + " stays in Badmail (it may also have been queued)");
            return 1;
        }
        badmail.delete(e.name());
        out.printf("resubmitted %s as %s from <%s> to %s; removed from Badmail%n", e.name(), envelope.id(), sender,
                String.join(", ", recipients));
        return 0;
    }

    /** The header section: up to the first empty line. */
    static String headers(byte[] message) {
        String text = new String(message, StandardCharsets.UTF_8);
        int end = text.indexOf("\r\n\r\n");
        int lf = text.indexOf("\n\n");
        int cut = end < 0 ? lf : lf < 0 ? end : Math.min(end, lf);
        return (cut < 0 ? text : text.substring(0, cut)).replace("\r\n", "\n");
    }

    /** Text from a message or a client, shown on a terminal: line breaks and tabs kept, other controls as \\xHH. */
    static String terminalSafe(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\t' || c >= 0x20 && c != 0x7F && !(c >= 0x80 && c < 0xA0)) {
                b.append(c);
            } else {
                b.append(String.format("\\x%02X", (int) c));
            }
        }
        return b.toString();
    }

    private static String value(List<String> args, String name) {
        int i = args.indexOf(name);
        if (i < 0) {
            return null;
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        String v = args.remove(i + 1);
        args.remove(i);
        return v;
    }

    private static int missing(PrintStream err, Badmail badmail, String name) {
        err.println("mailroot: no message '" + ClientText.forLog(name) + "' in Badmail " + badmail.dir()
                + " (see 'mailroot badmail list')");
        return 1;
    }

    private static int usage(PrintStream err, String message) {
        err.println("mailroot: " + message + "\n" + USAGE);
        return 2;
    }
}
