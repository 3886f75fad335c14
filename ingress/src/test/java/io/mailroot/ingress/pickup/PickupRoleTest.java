package io.mailroot.ingress.pickup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.core.config.ConfigLoader;
import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.TopicCreator;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.Recipient;
import io.mailroot.testkit.Await;
import io.mailroot.testkit.SharedKafka;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Pickup folder with real files and the shared embedded broker: what lands in inbound, and what is left on disk. */
class PickupRoleTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    private static Topics topics;
    private static KafkaClients clients;
    private static KafkaConsumer<String, byte[]> inbound;
    private static final List<MailRecord> queued = new ArrayList<>();

    @BeforeAll
    static void topics() throws Exception {
        String bootstrap = SharedKafka.bootstrap();
        String prefix = SharedKafka.uniquePrefix("pickup");
        topics = new Topics(prefix, 2);
        clients = new KafkaClients(bootstrap, prefix);
        TopicCreator.ensure(bootstrap, topics, 3, (short) 1);
        inbound = clients.consumer("check", "check");
        List<TopicPartition> partitions = inbound.partitionsFor(topics.inbound()).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        inbound.assign(partitions);
        inbound.seekToBeginning(partitions);
    }

    @AfterAll
    static void closeConsumer() {
        inbound.close();
    }

    private static MailrootConfig config(String name, String pollInterval) {
        return ConfigLoader.parse("""
                fqdn: relay.test
                localDomains: [local.test]
                mailroot: %s
                pickup:
                  pollInterval: %s
                """.formatted(dir.resolve(name), pollInterval), dir);
    }

    private static PickupRole start(MailrootConfig config) throws Exception {
        PickupRole role = new PickupRole(config, clients, topics);
        role.start();
        return role;
    }

    /** Drops a complete file the way careful writers do: written beside the folder, then renamed in. */
    private static Path drop(MailrootConfig config, String name, String content) throws IOException {
        Path tmp = config.pickupDir().resolve("." + name + ".tmp");
        Files.write(tmp, content.getBytes(StandardCharsets.UTF_8));
        return Files.move(tmp, config.pickupDir().resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    /** Every inbound record whose message contains {@code marker}, once at least {@code count} of them arrived. */
    private static List<MailRecord> queuedWith(String marker, int count) {
        List<MailRecord> found = new ArrayList<>();
        Await.until(count + " record(s) with " + marker + " in " + topics.inbound(), WAIT, () -> {
            for (ConsumerRecord<String, byte[]> r : inbound.poll(Duration.ofMillis(100))) {
                queued.add(EnvelopeCodec.fromRecord(r));
            }
            found.clear();
            queued.stream().filter(m -> text(m).contains(marker)).forEach(found::add);
            return found.size() >= count;
        });
        return found;
    }

    private static String text(MailRecord m) {
        return new String(m.message(), StandardCharsets.UTF_8);
    }

    private static List<String> recipients(MailRecord m) {
        return m.envelope().recipients().stream().map(Recipient::address).toList();
    }

    private static boolean empty(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            return files.noneMatch(p -> !p.getFileName().toString().equals(PickupRole.PROCESSING));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Splits off our Received header, checking it, and returns what follows it. */
    private static String afterReceived(MailRecord m) {
        String text = text(m);
        String first = "Received: from pickup by relay.test (Mailroot) with Pickup id " + m.envelope().id() + ";\r\n\t";
        assertTrue(text.startsWith(first), text);
        return text.substring(text.indexOf("\r\n", first.length()) + 2);
    }

    @Test
    void theClaimFoldersAreTheServicesAlone() throws Exception {
        MailrootConfig config = config("modes", "100ms");
        try (PickupRole role = start(config)) {
            for (Path p : List.of(role.processingDir(), role.processingDir().getParent())) {
                assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
            }
        }
    }

    @Test
    void doesNothingWhenDisabled() throws Exception {
        MailrootConfig config = ConfigLoader.parse("fqdn: relay.test\nmailroot: " + dir.resolve("off") + "\npickup: { enabled: false }\n", dir);
        try (PickupRole role = start(config)) {
            assertFalse(Files.exists(config.pickupDir()), "not even the folder is made");
            assertEquals(0, role.looks());
        }
    }

    @Test
    void takesTheEnvelopeFromXSenderAndXReceiverAndRemovesThem() throws Exception {
        MailrootConfig config = config("xsender", "100ms");
        try (PickupRole role = start(config)) {
            String rest = "From: Someone Else <other@client.test>\r\nTo: list@local.test\r\nSubject: pickup-xsender\r\n\r\nHello.\r\n";
            Path file = drop(config, "cdo.eml", "X-Sender: <alice@client.test>\r\nX-Receiver: <bob@local.test>\r\n"
                    + "X-Receiver: carol@remote.test\r\n" + rest);

            MailRecord m = queuedWith("pickup-xsender", 1).get(0);
            assertEquals("alice@client.test", m.envelope().sender());
            assertEquals(List.of("bob@local.test", "carol@remote.test"), recipients(m), "remote recipients are allowed");
            assertEquals("pickup", m.envelope().virtualServer());
            assertEquals(rest, afterReceived(m), "only the X-Sender and X-Receiver lines are gone");
            Await.until("the file deleted", WAIT, () -> !Files.exists(file) && empty(role.processingDir()));
        }
    }

    @Test
    void takesTheEnvelopeFromToCcAndBccAndRemovesBcc() throws Exception {
        MailrootConfig config = config("tocc", "100ms");
        try (PickupRole role = start(config)) {
            // Written on Unix: bare LF line ends, and a folded Bcc.
            Path file = drop(config, "unix.eml", "From: Alice <alice@client.test>\nTo: bob@local.test, Carol <carol@remote.test>\n"
                    + "Cc: dave@local.test\nBcc: eve@hidden.test,\n\tfrank@hidden.test\nSubject: pickup-bcc\n\nBcc: in the body stays\n");

            MailRecord m = queuedWith("pickup-bcc", 1).get(0);
            assertEquals("alice@client.test", m.envelope().sender());
            assertEquals(List.of("bob@local.test", "carol@remote.test", "dave@local.test", "eve@hidden.test", "frank@hidden.test"),
                    recipients(m));
            assertEquals("From: Alice <alice@client.test>\r\nTo: bob@local.test, Carol <carol@remote.test>\r\n"
                    + "Cc: dave@local.test\r\nSubject: pickup-bcc\r\n\r\nBcc: in the body stays\r\n", afterReceived(m));
            assertFalse(text(m).contains("hidden.test"), "no trace of the Bcc recipients in the queued copy");
            Await.until("the file deleted", WAIT, () -> !Files.exists(file));
        }
    }

    @Test
    void movesWhatIsNotAMessageToBadmailWithTheReason() throws Exception {
        MailrootConfig config = config("badmail", "100ms");
        try (PickupRole role = start(config)) {
            String garbage = "this is not a message\r\njust some text\r\n";
            String noRecipients = "From: alice@client.test\r\nSubject: nobody\r\n\r\nTo whom?\r\n";
            String badAddress = "From: alice@client.test\r\nTo: bob@@local.test\r\n\r\nHi\r\n";
            Path a = drop(config, "garbage.txt", garbage);
            Path b = drop(config, "nobody.eml", noRecipients);
            Path c = drop(config, "badaddress.eml", badAddress);

            Path badmail = config.badmailDir();
            Await.until("three messages in Badmail", WAIT, () -> badFiles(badmail).size() == 3);
            Await.until("the files gone from Pickup", WAIT, () -> !Files.exists(a) && !Files.exists(b) && !Files.exists(c));
            assertEquals(garbage, badmailed(badmail, garbage), "kept as it was");
            assertTrue(reasonFor(badmail, garbage).contains("line 1 is not a header field"), reasonFor(badmail, garbage));
            assertTrue(reasonFor(badmail, garbage).contains("garbage.txt"), "the reason names the file");
            assertTrue(reasonFor(badmail, noRecipients).contains("no recipients"), reasonFor(badmail, noRecipients));
            assertTrue(reasonFor(badmail, badAddress).contains("bad address in To"), reasonFor(badmail, badAddress));
            assertTrue(empty(role.processingDir()));
        }
    }

    @Test
    void aFileNameOrHeaderWithLineBreaksCannotForgeLogLines() throws Exception {
        MailrootConfig config = config("lognames", "100ms");
        try (io.mailroot.ingress.LogLines log = new io.mailroot.ingress.LogLines(PickupRole.class);
             PickupRole role = start(config)) {
            Path p = drop(config, "x\nWARN forged line.eml", "From: a@client.test\r\nTo: b@@local.test\r\nX-Note: x\r\n\r\nHi\r\n");
            Await.until("the file taken", WAIT, () -> !Files.exists(p) && empty(role.processingDir()));
            Await.until("the Badmail warning", WAIT, () -> log.messages().stream().anyMatch(m -> m.contains("forged line")));
            String line = log.messages().stream().filter(m -> m.contains("forged line")).findFirst().orElseThrow();
            assertFalse(line.contains("\n") || line.contains("\r"), line);
            assertTrue(line.contains("x\\nWARN forged line.eml"), "escaped, nothing lost: " + line);
        }
    }

    @Test
    void queuesAddressesInTheFormRcptToGivesThemAndBadmailsThoseItRefuses() throws Exception {
        MailrootConfig config = config("addresses", "100ms");
        try (PickupRole role = start(config)) {
            String sourceRoute = "X-Sender: alice@client.test\r\nX-Receiver: <@hop.test:bob@local.test>\r\nSubject: pickup-route\r\n\r\nHi\r\n";
            Path routed = drop(config, "route.eml", sourceRoute);
            Path dotted = drop(config, "dot.eml", "From: Alice <Alice@Client.Test>\r\nTo: Bob <bob@LOCAL.test.>\r\n"
                    + "Subject: pickup-dot\r\n\r\nHi\r\n");

            MailRecord m = queuedWith("pickup-dot", 1).get(0);
            assertEquals("Alice@client.test", m.envelope().sender());
            assertEquals(List.of("bob@local.test"), recipients(m), "local for the router, not a remote domain");
            assertEquals("local.test", m.envelope().recipients().get(0).domain());
            Path badmail = config.badmailDir();
            Await.until("the source-routed file in Badmail", WAIT, () -> badFiles(badmail).size() == 1);
            assertTrue(reasonFor(badmail, sourceRoute).contains("bad address in X-Receiver: @hop.test:bob@local.test "
                    + "(Source routes are not accepted)"), reasonFor(badmail, sourceRoute));
            Await.until("both files gone from Pickup", WAIT, () -> !Files.exists(routed) && !Files.exists(dotted));
        }
    }

    private static List<Path> badFiles(Path badmail) {
        if (!Files.isDirectory(badmail)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(badmail)) {
            return files.filter(p -> p.toString().endsWith(".bad")).toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String badmailed(Path badmail, String content) throws IOException {
        for (Path p : badFiles(badmail)) {
            String s = Files.readString(p);
            if (s.equals(content)) {
                return s;
            }
        }
        throw new AssertionError("not in Badmail: " + content);
    }

    private static String reasonFor(Path badmail, String content) throws IOException {
        for (Path p : badFiles(badmail)) {
            if (Files.readString(p).equals(content)) {
                String name = p.getFileName().toString();
                return Files.readString(p.resolveSibling(name.substring(0, name.length() - 4) + ".bdr"));
            }
        }
        throw new AssertionError("not in Badmail: " + content);
    }

    /** A file the service can read and a local user cannot, written as a message so that mailing it would work. */
    private static Path secret(String marker) throws IOException {
        Path secret = dir.resolve("secret-" + marker);
        Files.writeString(secret, "From: root@local.test\r\nTo: thief@remote.test\r\nSubject: key\r\n\r\n" + marker + "\r\n");
        return secret;
    }

    /**
     * After the link was dealt with: a plain message dropped behind it is queued (so the watcher has had its look at
     * everything before it), the secret is neither queued nor in Badmail, and it is still there as it was.
     */
    private static void neverMailed(MailrootConfig config, Path secret, String marker) throws IOException {
        String behind = "behind " + marker.toLowerCase(java.util.Locale.ROOT);
        drop(config, "after.eml", "From: a@client.test\r\nTo: b@local.test\r\n\r\n" + behind + "\r\n");
        queuedWith(behind, 1);
        for (ConsumerRecord<String, byte[]> r : inbound.poll(Duration.ofMillis(200))) {
            queued.add(EnvelopeCodec.fromRecord(r));
        }
        assertTrue(queued.stream().noneMatch(m -> text(m).contains(marker)), "the secret was queued");
        for (Path bad : badFiles(config.badmailDir())) {
            assertFalse(Files.readString(bad).contains(marker), "the secret was copied to Badmail: " + bad);
        }
        assertTrue(Files.readString(secret).contains(marker), "the file linked to is left as it was");
    }

    @Test
    void aSymbolicLinkDroppedIntoPickupIsRemovedUnread() throws Exception {
        MailrootConfig config = config("symlink", "100ms");
        Path secret = secret("SYMLINK-SECRET");
        try (io.mailroot.ingress.LogLines log = new io.mailroot.ingress.LogLines(PickupRole.class);
             PickupRole role = start(config)) {
            Path link = Files.createSymbolicLink(config.pickupDir().resolve("key.eml"), secret);
            Await.until("the link removed from Pickup", WAIT, () -> !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS));
            neverMailed(config, secret, "SYMLINK-SECRET");
            assertTrue(empty(role.processingDir()));
            assertTrue(log.messages().stream().anyMatch(m -> m.contains("key.eml refused and removed unread: a symbolic link")),
                    log.messages().toString());
        }
    }

    @Test
    void aHardLinkDroppedIntoPickupIsRemovedUnread() throws Exception {
        MailrootConfig config = config("hardlink", "100ms");
        Path secret = secret("HARDLINK-SECRET");
        try (io.mailroot.ingress.LogLines log = new io.mailroot.ingress.LogLines(PickupRole.class);
             PickupRole role = start(config)) {
            Path link = Files.createLink(config.pickupDir().resolve("key.eml"), secret);
            Await.until("the link removed from Pickup", WAIT, () -> !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS));
            neverMailed(config, secret, "HARDLINK-SECRET");
            assertTrue(empty(role.processingDir()));
            assertEquals(1, Files.getAttribute(secret, "unix:nlink"), "only the link's name was removed");
            assertTrue(log.messages().stream().anyMatch(m -> m.contains("key.eml refused and removed unread: a file with 2 hard links")),
                    log.messages().toString());
        }
    }

    @Test
    void aFileSwappedForALinkAfterItsClaimIsNotReadThroughTheLink() throws Exception {
        MailrootConfig config = config("swap", "100ms");
        Path secret = secret("SWAPPED-SECRET");
        try (PickupRole role = new PickupRole(config, clients, topics)) {
            // As a sender who swaps the file between the watcher's look and its rename would leave it.
            role.afterClaim(claimed -> {
                if (claimed.getFileName().toString().endsWith("_innocent.eml")) {
                    try {
                        Files.delete(claimed);
                        Files.createSymbolicLink(claimed, secret);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            });
            role.start();
            Path p = drop(config, "innocent.eml", "From: a@client.test\r\nTo: b@local.test\r\n\r\ninnocent\r\n");
            Await.until("the file taken", WAIT, () -> !Files.exists(p));
            neverMailed(config, secret, "SWAPPED-SECRET");
            assertTrue(empty(role.processingDir()));
        }
    }

    @Test
    void aCrashBetweenPublishAndDeleteQueuesTheFileAgainAtRestart() throws Exception {
        MailrootConfig config = config("crash", "100ms");
        AtomicBoolean crashed = new AtomicBoolean();
        PickupRole first = new PickupRole(config, clients, topics);
        Path processing = first.processingDir();
        first.afterQueued(files -> {
            if (!files.isEmpty()) {
                crashed.set(true);
                throw new IllegalStateException("the process dies here");
            }
        });
        first.start();
        Path file;
        try {
            file = drop(config, "crash.eml", "From: alice@client.test\r\nTo: bob@local.test\r\nSubject: pickup-crash\r\n\r\nOnce or twice.\r\n");
            Await.until("published, then crashed before the delete", WAIT, crashed::get);
        } finally {
            first.close();
        }
        MailRecord published = queuedWith("pickup-crash", 1).get(0);
        assertFalse(Files.exists(file));
        assertFalse(empty(processing), "the claimed file is still on disk");

        try (PickupRole second = start(config)) {
            Await.until("the file deleted after the second publish", WAIT, () -> empty(processing));
            List<MailRecord> both = queuedWith("pickup-crash", 2);
            assertEquals(2, both.size(), "a duplicate, never a loss");
            assertEquals(published.envelope().id(), both.get(1).envelope().id(), "queued again under the same id");
            assertEquals(afterReceived(published), afterReceived(both.get(1)));
            assertTrue(empty(config.pickupDir()));
        }
    }

    /** A file as a node leaves it in its claim folder when it dies between Kafka's ack and the delete. */
    private static Path claimed(Path folder, String id, String subject) throws IOException {
        Files.createDirectories(folder);
        return Files.writeString(folder.resolve(id + "_" + subject + ".eml"),
                "From: alice@client.test\r\nTo: bob@local.test\r\nSubject: " + subject + "\r\n\r\nHello.\r\n");
    }

    @Test
    void eachNodeOfASharedFolderQueuesAgainOnlyWhatItClaimedItself() throws Exception {
        MailrootConfig config = config("shared", "100ms");
        PickupRole a = new PickupRole(config, clients, topics, "relay.test-a");
        PickupRole b = new PickupRole(config, clients, topics, "relay.test-b");
        assertEquals(config.pickupDir().resolve(PickupRole.PROCESSING).resolve("relay.test-a"), a.processingDir());
        // a is alive with a file in flight; b died with one of its own left
        Path inFlight = claimed(a.processingDir(), "AAAA1", "pickup-in-flight-a");
        Path left = claimed(b.processingDir(), "BBBB1", "pickup-left-b");

        b.start();
        try {
            MailRecord again = queuedWith("pickup-left-b", 1).get(0);
            assertEquals("BBBB1", again.envelope().id(), "queued again under the id it was claimed with");
            Await.until("b's file deleted", WAIT, () -> !Files.exists(left));
            // b recovers everything of its own in one batch before its first look at the folder
            Await.until("b looked at the folder", WAIT, () -> b.looks() > 0);
            assertTrue(Files.exists(inFlight), "a's file in flight is a's");
            assertTrue(queued.stream().noneMatch(m -> text(m).contains("pickup-in-flight-a")), "b did not queue a's file");

            // a restarts (or finishes): its own file is its business
            a.start();
            try {
                assertEquals("AAAA1", queuedWith("pickup-in-flight-a", 1).get(0).envelope().id());
                Await.until("a's file deleted", WAIT, () -> !Files.exists(inFlight));
            } finally {
                a.close();
            }
        } finally {
            b.close();
        }
    }

    @Test
    void filesClaimedBeforeThereWereNodeFoldersAreTakenOver() throws Exception {
        MailrootConfig config = config("legacy", "100ms");
        Path old = claimed(config.pickupDir().resolve(PickupRole.PROCESSING), "OLD1", "pickup-legacy");
        try (PickupRole role = start(config)) {
            assertEquals("OLD1", queuedWith("pickup-legacy", 1).get(0).envelope().id());
            Await.until("the file deleted", WAIT, () -> !Files.exists(old) && empty(role.processingDir()));
        }
    }

    @Test
    void theNodeNameIsTheFqdnAndHostNameAndTheSameEachTime() {
        String node = PickupRole.nodeName("Relay.Test");
        assertEquals(node, PickupRole.nodeName("Relay.Test"), "stable: a restarted node finds its own folder");
        assertTrue(node.startsWith("relay.test-") && node.length() > "relay.test-".length(), node);
        assertTrue(node.matches("[a-z0-9._-]+"), "safe as a folder name: " + node);
    }

    @Test
    void aFileStillBeingWrittenIsNotTakenHalf() throws Exception {
        MailrootConfig config = config("slow", "500ms");
        try (PickupRole role = start(config)) {
            StringBuilder body = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                body.append("Line ").append(i).append(" of a message written slowly.\r\n");
            }
            String message = "From: alice@client.test\r\nTo: bob@local.test\r\nSubject: pickup-slow\r\n\r\n" + body;
            byte[] bytes = message.getBytes(StandardCharsets.US_ASCII);
            Path file = config.pickupDir().resolve("slow.eml");
            long looksBefore;
            // Created, then written in pieces for about two seconds, as an IIS-era writer does.
            try (OutputStream out = Files.newOutputStream(file)) {
                looksBefore = role.looks();
                int chunk = bytes.length / 40 + 1;
                for (int off = 0; off < bytes.length; off += chunk) {
                    out.write(bytes, off, Math.min(chunk, bytes.length - off));
                    out.flush();
                    Thread.sleep(50); // the slow writer under test, not synchronisation
                }
            }
            assertTrue(role.looks() - looksBefore >= 3, "the folder was looked at while the file grew");

            MailRecord m = queuedWith("pickup-slow", 1).get(0);
            assertEquals(message, afterReceived(m), "the whole file, not the part written at some look");
            Await.until("the file deleted", WAIT, () -> !Files.exists(file));
        }
    }
}
