package io.mailroot.ingress.auth;

import io.mailroot.core.folder.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The users who may authenticate to the SMTP service: a text file of {@code user:hash} lines, like an htpasswd
 * file. User names are compared without regard to case, as mailbox names are.
 */
public final class UserStore {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._%+@-]{1,256}");

    private final Path file;
    private final Map<String, PasswordHash> users;

    private UserStore(Path file, Map<String, PasswordHash> users) {
        this.file = file;
        this.users = users;
    }

    /** Reads the file; a missing file is an empty store. */
    public static UserStore load(Path file) throws IOException {
        Map<String, PasswordHash> users = new TreeMap<>();
        if (Files.exists(file)) {
            int n = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                n++;
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int colon = line.indexOf(':');
                try {
                    if (colon <= 0) {
                        throw new IllegalArgumentException("no user name");
                    }
                    users.put(line.substring(0, colon).toLowerCase(Locale.ROOT), PasswordHash.decode(line.substring(colon + 1)));
                } catch (RuntimeException e) {
                    throw new IOException(file + " line " + n + " is not 'user:pbkdf2-sha256:iterations:salt:hash'");
                }
            }
        }
        return new UserStore(file, users);
    }

    /** A store with nobody in it yet, saved to {@code file} on the first change. */
    public static UserStore empty(Path file) {
        return new UserStore(file, new TreeMap<>());
    }

    public static boolean validName(String name) {
        return NAME.matcher(name).matches();
    }

    public boolean contains(String user) {
        return users.containsKey(user.toLowerCase(Locale.ROOT));
    }

    public Map<String, PasswordHash> users() {
        return Collections.unmodifiableMap(users);
    }

    /** Whether the password is right; runs the hash even for an unknown user so timing does not tell who exists. */
    public boolean verify(String user, char[] password) {
        PasswordHash h = users.get(user.toLowerCase(Locale.ROOT));
        if (h == null) {
            dummy().matches(password);
            return false;
        }
        return h.matches(password);
    }

    /** A hash as slow as the real ones, made on first use: hashing at load would slow every start. */
    private PasswordHash dummy() {
        PasswordHash d = dummy;
        if (d == null) {
            int iterations = users.values().stream().mapToInt(PasswordHash::iterations).findFirst().orElse(PasswordHash.ITERATIONS);
            d = PasswordHash.create("dummy".toCharArray(), iterations);
            dummy = d;
        }
        return d;
    }

    private volatile PasswordHash dummy;

    /** Adds or replaces a user, hashed with {@link PasswordHash#ITERATIONS}, and rewrites the file atomically. */
    public void put(String user, char[] password) throws IOException {
        put(user, password, PasswordHash.ITERATIONS);
    }

    /** As {@link #put(String, char[])} with a given hash cost; fewer iterations are for tests only. */
    public void put(String user, char[] password, int iterations) throws IOException {
        if (!validName(user)) {
            throw new IllegalArgumentException("user name '" + user + "' may hold only letters, digits and ._%+@-");
        }
        if (password.length == 0) {
            throw new IllegalArgumentException("the password is empty");
        }
        users.put(user.toLowerCase(Locale.ROOT), PasswordHash.create(password, iterations));
        save();
    }

    public boolean remove(String user) throws IOException {
        boolean had = users.remove(user.toLowerCase(Locale.ROOT)) != null;
        if (had) {
            save();
        }
        return had;
    }

    private void save() throws IOException {
        StringBuilder b = new StringBuilder("# Mailroot SMTP users: managed with 'mailroot user add|passwd|remove'\n");
        users.forEach((u, h) -> b.append(u).append(':').append(h.encode()).append('\n'));
        AtomicFiles.write(file, b.toString().getBytes(StandardCharsets.UTF_8));
    }

    public Path file() {
        return file;
    }
}
