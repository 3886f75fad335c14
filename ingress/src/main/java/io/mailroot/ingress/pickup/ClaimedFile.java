package io.mailroot.ingress.pickup;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;

/**
 * A file claimed from Pickup, opened for reading only if it is what a sender dropped: a plain file with no other
 * name. Whoever may write to Pickup could otherwise drop a symbolic link or a hard link to any file the service
 * can read (a key, another user's mail) and have it mailed out.
 *
 * <p>The open refuses a symbolic link itself ({@link LinkOption#NOFOLLOW_LINKS}, O_NOFOLLOW). Java cannot ask an
 * open channel for its attributes, so the checks bracket the open: the file's identity (device and inode, the
 * {@link BasicFileAttributes#fileKey() file key}) and link count are read before and after it, by name, without
 * following links, and must be the same. The name is in the node's claim folder, where only the service writes,
 * so nobody else can put another file under it between the two; everything is then read through the channel
 * that was opened, never by name again.
 */
final class ClaimedFile implements Closeable {

    /** The file is not one the service should read; it was not read. */
    static final class Refused extends IOException {
        Refused(String reason) {
            super(reason);
        }
    }

    private final FileChannel channel;

    private ClaimedFile(FileChannel channel) {
        this.channel = channel;
    }

    static ClaimedFile open(Path path) throws IOException {
        BasicFileAttributes before = plainSingleFile(path);
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (FileSystemException e) {
            if (Files.isSymbolicLink(path)) {
                throw new Refused("a symbolic link, not a file");
            }
            throw e;
        }
        try {
            BasicFileAttributes after = plainSingleFile(path);
            if (before.fileKey() == null || !Objects.equals(before.fileKey(), after.fileKey())) {
                throw new Refused("replaced while it was being opened");
            }
            return new ClaimedFile(channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The attributes of a regular file with one link, read without following links; else {@link Refused}. */
    private static BasicFileAttributes plainSingleFile(Path path) throws IOException {
        BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isSymbolicLink()) {
            throw new Refused("a symbolic link, not a file");
        }
        if (!a.isRegularFile()) {
            throw new Refused("not a regular file");
        }
        int links = links(path);
        if (links > 1) {
            throw new Refused("a file with " + links + " hard links: another name for a file, not a dropped one");
        }
        return a;
    }

    /** The hard link count; 1 where the file system does not keep one (no "unix" attribute view). */
    private static int links(Path path) throws IOException {
        try {
            return (Integer) Files.getAttribute(path, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
            return 1;
        }
    }

    long size() throws IOException {
        return channel.size();
    }

    /** The whole file, read through the checked channel. */
    byte[] readAll() throws IOException {
        long size = channel.size();
        if (size > Integer.MAX_VALUE - 16) {
            throw new IOException("file of " + size + " bytes is too large to read");
        }
        ByteBuffer b = ByteBuffer.allocate((int) size);
        channel.position(0);
        while (b.hasRemaining() && channel.read(b) >= 0) {
            // until full or at the end; a file that shrank under its writer is read as it now is
        }
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
