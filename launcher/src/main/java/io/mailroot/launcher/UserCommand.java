package io.mailroot.launcher;

import io.mailroot.core.config.MailrootConfig;
import io.mailroot.ingress.auth.PasswordHash;
import io.mailroot.ingress.auth.UserStore;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * {@code mailroot user add|passwd|remove NAME} and {@code mailroot user list}: manages the users file that SMTP
 * AUTH checks (config key {@code usersFile}). Passwords are read from the console without echo, or, when there is
 * no console (a script), from one line of standard input; they are stored only as salted PBKDF2 hashes, and the
 * file is replaced atomically. Exit codes: 0 done, 1 refused (unknown or existing user, empty or mismatched
 * password, unreadable file), 2 usage.
 */
final class UserCommand {

    static final String USAGE = """
            usage: mailroot user add NAME [--config FILE]      add a user; asks for the password
                   mailroot user passwd NAME [--config FILE]   change a user's password
                   mailroot user remove NAME [--config FILE]   remove a user
                   mailroot user list [--config FILE]          list the users""";

    /** Where a password comes from: the console (asked twice) or one line of standard input. */
    interface Passwords {
        char[] read(String user) throws IOException;
    }

    private UserCommand() {
    }

    static int run(List<String> args, MailrootConfig config) {
        Console console = System.console();
        Passwords passwords = console != null ? user -> fromConsole(console, user) : user -> fromLine(System.in);
        return run(args, config.usersFile(), passwords, System.out, System.err, PasswordHash.ITERATIONS);
    }

    static int run(List<String> args, Path usersFile, Passwords passwords, PrintStream out, PrintStream err, int iterations) {
        if (args.isEmpty()) {
            err.println(USAGE);
            return 2;
        }
        String action = args.get(0);
        boolean needsName = !action.equals("list");
        if (!List.of("add", "passwd", "remove", "list").contains(action) || args.size() != (needsName ? 2 : 1)) {
            err.println("mailroot: " + (List.of("add", "passwd", "remove", "list").contains(action)
                    ? "wrong arguments for 'user " + action + "'" : "unknown user command '" + action + "'") + "\n" + USAGE);
            return 2;
        }
        String name = needsName ? args.get(1) : null;
        if (needsName && !UserStore.validName(name)) {
            err.println("mailroot: invalid user name '" + name + "': use 1 to 256 letters, digits and ._%+@-");
            return 2;
        }
        try {
            UserStore store = UserStore.load(usersFile);
            switch (action) {
                case "list" -> {
                    store.users().keySet().forEach(out::println);
                    return 0;
                }
                case "remove" -> {
                    if (!store.remove(name)) {
                        err.println("mailroot: unknown user '" + name + "' in " + usersFile);
                        return 1;
                    }
                    out.println("mailroot: removed user '" + name + "' from " + usersFile);
                    return 0;
                }
                default -> {
                    boolean exists = store.contains(name);
                    if (action.equals("add") && exists) {
                        err.println("mailroot: user '" + name + "' already exists; use 'mailroot user passwd " + name + "'");
                        return 1;
                    }
                    if (action.equals("passwd") && !exists) {
                        err.println("mailroot: unknown user '" + name + "' in " + usersFile);
                        return 1;
                    }
                    char[] password = passwords.read(name);
                    if (password == null || password.length == 0) {
                        err.println("mailroot: no password given; nothing changed");
                        return 1;
                    }
                    try {
                        store.put(name, password, iterations);
                    } finally {
                        Arrays.fill(password, '\0');
                    }
                    out.println("mailroot: " + (exists ? "changed the password of" : "added") + " user '" + name + "' in " + usersFile);
                    return 0;
                }
            }
        } catch (PasswordMismatch e) {
            err.println("mailroot: the passwords do not match; nothing changed");
            return 1;
        } catch (IOException e) {
            err.println("mailroot: " + usersFile + ": " + e.getMessage());
            return 1;
        }
    }

    private static final class PasswordMismatch extends IOException {
        PasswordMismatch() {
            super("passwords do not match");
        }
    }

    private static char[] fromConsole(Console console, String user) throws IOException {
        char[] first = console.readPassword("Password for %s: ", user);
        char[] second = console.readPassword("Again: ");
        try {
            if (first == null || second == null || !Arrays.equals(first, second)) {
                if (first != null) {
                    Arrays.fill(first, '\0');
                }
                throw new PasswordMismatch();
            }
            return first;
        } finally {
            if (second != null) {
                Arrays.fill(second, '\0');
            }
        }
    }

    /** One line of standard input, without its line end, in UTF-8 (for scripts: echo "$PW" | mailroot user add NAME). */
    static char[] fromLine(InputStream in) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1);
        String line = r.readLine();
        return line == null ? null : line.toCharArray();
    }
}
