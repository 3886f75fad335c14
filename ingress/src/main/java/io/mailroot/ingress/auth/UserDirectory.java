package io.mailroot.ingress.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The users file as the running ingress sees it: read again when it changes, so that {@code mailroot user add}
 * takes effect without a restart. A file that cannot be read keeps the users last read (and says so in the log).
 */
public final class UserDirectory {

    private static final Logger LOG = LoggerFactory.getLogger(UserDirectory.class);

    private final Path file;
    private final HashSlots hashing;
    private UserStore store;
    private FileTime loadedVersion;
    private long loadedSize = -1;

    public UserDirectory(Path file) {
        this(file, HashSlots.forThisMachine());
    }

    /** @param hashing what bounds the password checks run at once against these users */
    UserDirectory(Path file, HashSlots hashing) {
        this.file = file;
        this.hashing = hashing;
    }

    /** Where password checks against these users run: {@link #verify} is to be called in one of its slots. */
    public HashSlots hashing() {
        return hashing;
    }

    /** Whether the user exists and the password is right. */
    public boolean verify(String user, char[] password) {
        return current().verify(user, password);
    }

    public boolean contains(String user) {
        return current().contains(user);
    }

    private synchronized UserStore current() {
        FileTime version;
        long size;
        try {
            version = Files.getLastModifiedTime(file);
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            version = null;
            size = -1;
        } catch (IOException e) {
            LOG.warn("cannot read users file {}: {}", file, e.toString());
            return store != null ? store : empty();
        }
        if (store == null || !Objects.equals(version, loadedVersion) || size != loadedSize) {
            try {
                store = UserStore.load(file);
                loadedVersion = version;
                loadedSize = size;
            } catch (IOException e) {
                LOG.warn("cannot read users file {}: {}", file, e.getMessage());
                if (store == null) {
                    store = empty();
                }
            }
        }
        return store;
    }

    private UserStore empty() {
        return UserStore.empty(file);
    }
}
