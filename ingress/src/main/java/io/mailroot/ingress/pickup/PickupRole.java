package io.mailroot.ingress.pickup;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.core.folder.Badmail;
import io.mailroot.core.folder.FileNames;
import io.mailroot.core.folder.PrivateFiles;
import io.mailroot.core.kafka.KafkaClients;
import io.mailroot.core.kafka.Topics;
import io.mailroot.core.message.Envelope;
import io.mailroot.core.message.EnvelopeCodec;
import io.mailroot.core.message.MailRecord;
import io.mailroot.core.message.MessageIds;
import io.mailroot.core.message.Recipient;
import io.mailroot.core.role.Role;
import io.mailroot.core.text.ClientText;
import io.mailroot.ingress.IngressMetrics;
import io.mailroot.ingress.ReceivedHeader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The IIS Pickup directory: a complete message file dropped into {@code mailroot/Pickup} is queued on
 * {@code inbound} and deleted once Kafka acknowledged it.
 *
 * <p>A file that has settled (see {@link SettledFiles}) is claimed by an atomic rename into
 * {@code Pickup/.pickup-processing/NODE/ID_name}, so that no other Pickup watcher takes it as well and the queue id
 * survives a crash. It is deleted from there only after the acknowledgement. A process that dies between the
 * acknowledgement and the delete finds the file there at its next start and queues it again under the same id:
 * a duplicate, never a loss. Files that are not messages go to Badmail with the reason. Only what was dropped
 * is read: after the claim a symbolic link or a file with another name is refused ({@link ClaimedFile}) and its
 * claimed name removed unread.
 *
 * <p>Several nodes may watch one shared Pickup folder. Each claims into a folder of its own, named by
 * {@link #nodeName}: the fqdn and the host name, the same at every start of the node. At start a node queues again
 * only what is in its own folder; what another node has in flight is that node's. Files an older version left
 * directly in {@code .pickup-processing} are taken over by the first node to start, by an atomic rename (during a
 * rolling upgrade that may duplicate a file an old node still has in flight, as any restart used to). The folder of
 * a node that never comes back is for the operator to move back into Pickup.
 *
 * <p>File-system events only wake the watcher early; a poll every {@code pickup.pollInterval} finds what events
 * missed (they are lost on overflow, and on some network file systems never come).
 */
public final class PickupRole implements Role {

    static final String PROCESSING = ".pickup-processing";

    private static final Logger LOG = LoggerFactory.getLogger(PickupRole.class);
    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(30);
    /** Bounds what one look holds in memory; the rest waits for the next look, which follows at once. */
    private static final int MAX_BATCH_FILES = 500;
    private static final long MAX_BATCH_BYTES = 64L * 1024 * 1024;
    /** Room left in a Kafka record for the envelope header and our Received header. */
    private static final long MAX_FILE_BYTES = KafkaClients.MAX_RECORD_BYTES - 64 * 1024;

    private final MailrootConfig config;
    private final KafkaClients clients;
    private final Topics topics;
    private final Path pickupDir;
    private final Path processingDir;
    private final Badmail badmail;
    private final SettledFiles settled;
    private final AtomicLong looks = new AtomicLong();
    private volatile Consumer<List<Path>> afterQueued = files -> { };
    private volatile Consumer<Path> afterClaim = file -> { };
    private volatile boolean running;
    private Producer<String, byte[]> producer;
    private WatchService watch;
    private WatchKey registration;
    private Thread thread;

    /** A file taken out of Pickup, under the id it is queued with. */
    private record Claimed(Path path, String id, String originalName) {
    }

    private record Sent(Claimed file, Future<RecordMetadata> ack) {
    }

    public PickupRole(MailrootConfig config, KafkaClients clients, Topics topics) {
        this(config, clients, topics, nodeName(config.fqdn()));
    }

    /** @param node the name of this node's claim folder under {@code .pickup-processing} */
    PickupRole(MailrootConfig config, KafkaClients clients, Topics topics, String node) {
        this.config = config;
        this.clients = clients;
        this.topics = topics;
        this.pickupDir = config.pickupDir();
        this.processingDir = pickupDir.resolve(PROCESSING).resolve(node);
        this.badmail = new Badmail(config.badmailDir());
        this.settled = new SettledFiles(config.pickup().pollInterval().toNanos());
    }

    @Override
    public String name() {
        return "pickup";
    }

    /**
     * This node's claim folder name: {@code fqdn-hostname}, lower-cased, with anything but letters, digits, dot,
     * hyphen and underscore replaced by {@code _}. The fqdn alone would do for one node, but the nodes of a cluster
     * often share it; the host name is what tells them apart and stays the same across restarts.
     */
    static String nodeName(String fqdn) {
        return FileNames.safe((fqdn + "-" + hostName()).toLowerCase(Locale.ROOT));
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            // the host name does not resolve; the environment usually still knows it
            for (String variable : List.of("HOSTNAME", "COMPUTERNAME")) {
                String name = System.getenv(variable);
                if (name != null && !name.isBlank()) {
                    return name;
                }
            }
            return "localhost";
        }
    }

    /** For tests: where this node claims files. */
    Path processingDir() {
        return processingDir;
    }

    @Override
    public synchronized void start() throws IOException {
        if (!config.pickup().enabled() || running) {
            return;
        }
        createFolders();
        watch = FileSystems.getDefault().newWatchService();
        registration = register();
        producer = clients.producer("mailroot-pickup");
        running = true;
        thread = new Thread(this::run, "mailroot-pickup");
        thread.setDaemon(true);
        thread.setUncaughtExceptionHandler(io.mailroot.core.role.FatalErrors.process().uncaughtHandler());
        thread.start();
        LOG.info("watching {}, claiming into {}", pickupDir, processingDir);
    }

    /** Pickup with the default mode (who may drop is the operator's choice); the claim folders only for us. */
    private void createFolders() throws IOException {
        Files.createDirectories(pickupDir);
        PrivateFiles.createFolders(processingDir);
    }

    private WatchKey register() throws IOException {
        return pickupDir.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
    }

    /** For tests: called with the files Kafka acknowledged, before they are deleted; a throw stands for a crash. */
    void afterQueued(Consumer<List<Path>> hook) {
        this.afterQueued = hook;
    }

    /**
     * For tests: called with each file just claimed, before it is opened; a test swaps it for a link there, as a
     * sender racing the claim in Pickup could.
     */
    void afterClaim(Consumer<Path> hook) {
        this.afterClaim = hook;
    }

    /** For tests: how many times the folder has been looked at. */
    long looks() {
        return looks.get();
    }

    private void run() {
        try {
            submit(leftByEarlierRun());
        } catch (IOException | RuntimeException e) {
            LOG.warn("resubmitting files left in {}: {}", processingDir, shown(e));
        }
        while (running) {
            boolean more = false;
            try {
                more = look();
            } catch (IOException | RuntimeException e) {
                if (running) {
                    LOG.warn("looking at {}: {}", pickupDir, shown(e));
                }
            }
            if (!more && !waitForChange()) {
                return;
            }
        }
    }

    /**
     * Files this node claimed in a run that ended before deleting them: queued again under the id they were claimed
     * with, so a duplicate can be recognised downstream. Other nodes' folders are left alone.
     */
    private List<Claimed> leftByEarlierRun() throws IOException {
        adoptUnownedClaims();
        List<Claimed> left = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(processingDir)) {
            for (Path p : files) {
                if (!claimable(p)) {
                    continue;
                }
                String name = p.getFileName().toString();
                int cut = name.indexOf('_');
                left.add(cut > 0 ? new Claimed(p, name.substring(0, cut), name.substring(cut + 1))
                        : new Claimed(p, MessageIds.next(), name));
            }
        }
        if (!left.isEmpty()) {
            LOG.warn("queueing again {} Pickup file(s) an earlier run took but did not finish", left.size());
        }
        return left;
    }

    /**
     * Moves files claimed by a version without per-node folders (directly in {@code .pickup-processing}) into this
     * node's folder. Whoever renames a file first has it; the others' renames fail and they go on.
     */
    private void adoptUnownedClaims() throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(processingDir.getParent())) {
            for (Path p : files) {
                if (!claimable(p)) {
                    continue;
                }
                try {
                    Files.move(p, processingDir.resolve(p.getFileName()), StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    LOG.debug("cannot take over {}: {}", shown(p), shown(e));
                }
            }
        }
    }

    /**
     * A file or a symbolic link: links are claimed too (the rename moves the link, never what it points at), so that
     * {@link ClaimedFile} refuses them with a warning instead of their lying in the folder unnoticed.
     */
    private static boolean claimable(Path p) {
        return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(p);
    }

    /** @return true when settled files were left for the next look because this one was full */
    private boolean look() throws IOException {
        if (!registration.isValid()) {
            // The folder was removed and perhaps made again: watch the new one.
            createFolders();
            registration = register();
        }
        long now = System.nanoTime();
        Set<Path> present = new HashSet<>();
        List<Claimed> claimed = new ArrayList<>();
        long bytes = 0;
        boolean more = false;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(pickupDir)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") || name.endsWith(".tmp")) {
                    continue; // our own folder, and the temporary files of writers that rename into place
                }
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (IOException gone) {
                    continue;
                }
                if (!a.isRegularFile() && !a.isSymbolicLink()) {
                    continue;
                }
                present.add(p);
                if (!settled.settled(p, a.size(), a.lastModifiedTime().toMillis(), now)) {
                    continue;
                }
                if (claimed.size() >= MAX_BATCH_FILES || (bytes > 0 && bytes + a.size() > MAX_BATCH_BYTES)) {
                    more = true;
                    continue;
                }
                Claimed c = claim(p, name);
                if (c != null) {
                    claimed.add(c);
                    bytes += a.size();
                    settled.forget(p);
                }
            }
        }
        settled.retainOnly(present);
        submit(claimed);
        looks.incrementAndGet();
        return more;
    }

    private Claimed claim(Path file, String name) {
        String id = MessageIds.next();
        Path target = processingDir.resolve(id + "_" + name);
        try {
            Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
            afterClaim.accept(target);
            return new Claimed(target, id, name);
        } catch (IOException e) {
            // Taken by another watcher, or (on Windows) still open in its writer: look again later.
            LOG.debug("cannot claim {}: {}", shown(file), shown(e));
            return null;
        }
    }

    /** Sends every claimed file, then waits for all acknowledgements, then deletes what Kafka holds. */
    private void submit(List<Claimed> claimed) {
        if (claimed.isEmpty()) {
            return;
        }
        List<Sent> sent = new ArrayList<>();
        boolean kafkaDown = false;
        for (Claimed c : claimed) {
            if (kafkaDown) {
                putBack(c);
                continue;
            }
            try {
                Sent s = send(c);
                if (s != null) {
                    sent.add(s);
                }
            } catch (IOException e) {
                LOG.warn("cannot read Pickup file {}: {}", shown(c.originalName()), shown(e));
                putBack(c);
            } catch (RuntimeException e) {
                // send() blocks up to max.block.ms when Kafka is unreachable: do not wait that long once per file.
                LOG.warn("cannot queue Pickup file {} (the rest of this look waits for the next): {}", shown(c.originalName()), shown(e));
                putBack(c);
                kafkaDown = true;
            }
        }
        long deadline = System.nanoTime() + ACK_TIMEOUT.toNanos();
        List<Path> queued = new ArrayList<>();
        for (Sent s : sent) {
            try {
                s.ack().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                queued.add(s.file().path());
                IngressMetrics.accepted(IngressMetrics.PICKUP);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                putBack(s.file());
            } catch (Exception e) {
                // Perhaps queued after all: then the file comes once more, which beats not at all.
                LOG.warn("Kafka did not take Pickup file {}: {}", shown(s.file().originalName()), shown(e));
                putBack(s.file());
            }
        }
        afterQueued.accept(queued);
        for (Path p : queued) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                LOG.warn("queued but cannot delete {} (it will be queued again at restart): {}", shown(p), shown(e));
            }
        }
    }

    /** @return the pending send, or null when the file went to Badmail or was refused instead */
    private Sent send(Claimed c) throws IOException {
        byte[] file;
        try (ClaimedFile opened = ClaimedFile.open(c.path())) {
            long size = opened.size();
            if (size > MAX_FILE_BYTES) {
                // Too large to read into memory for Badmail.write: leave the reason, then move the file beside it.
                Path bad = badmail.write(c.id(), new byte[0],
                        "Pickup file " + c.originalName() + " is " + size + " bytes, more than the " + MAX_FILE_BYTES + " a message may have");
                Files.move(c.path(), bad, StandardCopyOption.REPLACE_EXISTING);
                LOG.warn("Pickup file {} too large, moved to Badmail as {}", shown(c.originalName()), c.id());
                return null;
            }
            file = opened.readAll();
        } catch (ClaimedFile.Refused r) {
            refuse(c, r.getMessage());
            return null;
        }
        PickupMessage message;
        String unreadable;
        try {
            message = PickupMessage.read(file);
            unreadable = null;
        } catch (PickupMessage.UnreadableMessage e) {
            message = null;
            unreadable = e.getMessage();
        } catch (RuntimeException e) {
            // A parser failure must not bring the file back again and again.
            message = null;
            unreadable = "unreadable: " + e;
        }
        if (message == null) {
            badmail.write(c.id(), file, "Pickup file " + c.originalName() + " cannot be submitted: " + unreadable);
            Files.deleteIfExists(c.path());
            LOG.warn("Pickup file {} moved to Badmail as {}: {}", shown(c.originalName()), c.id(), shown(unreadable));
            return null;
        }
        Instant now = Instant.now();
        byte[] bytes = ReceivedHeader.prependFrom("pickup", "Pickup", config.fqdn(), c.id(), now, message.queued());
        Envelope envelope = Envelope.received(c.id(), message.sender(),
                        message.recipients().stream().map(Recipient::of).toList(), now)
                .withClient(null, null, null, null, false, "pickup");
        return new Sent(c, producer.send(EnvelopeCodec.toRecord(topics.inbound(), c.id(), new MailRecord(envelope, bytes))));
    }

    /**
     * Removes a claimed name that is not a dropped file, unread. It is a link to a file that is not the service's to
     * keep: deleting the name leaves the file it points at as it was, whereas moving it aside (or into Badmail) would
     * keep a way to that file inside the service's folders, and fill them with every link someone drops.
     */
    private void refuse(Claimed c, String why) {
        try {
            Files.deleteIfExists(c.path());
            LOG.warn("Pickup file {} refused and removed unread: {}", shown(c.originalName()), why);
        } catch (IOException e) {
            LOG.warn("Pickup file {} refused ({}) but cannot be removed: {}", shown(c.originalName()), why, shown(e));
        }
    }

    /** Returns a file Kafka did not take to Pickup, where the next look finds it again. */
    private void putBack(Claimed c) {
        Path back = pickupDir.resolve(c.originalName());
        try {
            if (Files.exists(back, LinkOption.NOFOLLOW_LINKS)) {
                back = pickupDir.resolve(c.id() + "_" + c.originalName());
            }
            Files.move(c.path(), back, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.warn("cannot return {} to Pickup (it will be queued at restart): {}", shown(c.path()), shown(e));
        }
    }

    /** Waits for a file-system event or until a watched file could have settled. @return false when closing */
    private boolean waitForChange() {
        long wait = Math.max(TimeUnit.MILLISECONDS.toNanos(1),
                Math.min(config.pickup().pollInterval().toNanos(), settled.nanosUntilNextSettles(System.nanoTime())));
        try {
            WatchKey key = watch.poll(wait, TimeUnit.NANOSECONDS);
            while (key != null) {
                key.pollEvents();
                key.reset();
                key = watch.poll();
            }
            return running;
        } catch (InterruptedException | ClosedWatchServiceException e) {
            return false;
        }
    }

    /**
     * File names in Pickup are chosen by whoever drops the file, and exceptions about a file carry its name: shown
     * escaped, so a name holding a line break cannot forge log lines.
     */
    private static String shown(Object o) {
        return ClientText.forLog(String.valueOf(o));
    }

    @Override
    public synchronized void close() {
        if (!running) {
            return;
        }
        running = false;
        try {
            watch.close();
        } catch (IOException e) {
            LOG.debug("closing the watch service: {}", e.toString());
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(40));
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(TimeUnit.SECONDS.toMillis(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            producer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            LOG.warn("closing the Pickup producer: {}", e.toString());
        }
    }
}
