package io.mailroot.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mailroot.ingress.auth.UserStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mailroot user ...} against a temporary users file, with passwords from standard input. */
class ConnUserCommandTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String stdin, String... args) {
        out.reset();
        err.reset();
        ByteArrayInputStream in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        return UserCommand.run(List.of(args), dir.resolve("users"), user -> UserCommand.fromLine(in),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), 1000);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void addPasswdListRemove() throws Exception {
        assertEquals(0, run("s3cret\n", "add", "alice@example.com"), err());
        assertTrue(UserStore.load(dir.resolve("users")).verify("alice@example.com", "s3cret".toCharArray()));
        assertFalse(Files.readString(dir.resolve("users")).contains("s3cret"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("users"))),
                "password hashes are for the service's eyes only");

        assertEquals(1, run("other\n", "add", "alice@example.com"));
        assertTrue(err().contains("already exists"), err());

        assertEquals(0, run("n\u00e9w pass\r\n", "passwd", "ALICE@example.com"), err());
        assertTrue(UserStore.load(dir.resolve("users")).verify("alice@example.com", "n\u00e9w pass".toCharArray()));

        assertEquals(0, run("pw\n", "add", "bob"));
        assertEquals(0, run("", "list"));
        assertEquals("alice@example.com\nbob\n", out.toString(StandardCharsets.UTF_8).replace("\r\n", "\n"));

        assertEquals(0, run("", "remove", "bob"));
        assertFalse(UserStore.load(dir.resolve("users")).contains("bob"));
    }

    @Test
    void clearErrorsAndExitCodes() throws Exception {
        assertEquals(1, run("pw\n", "passwd", "nobody"));
        assertTrue(err().contains("unknown user 'nobody'"), err());
        assertEquals(1, run("", "remove", "nobody"));
        assertTrue(err().contains("unknown user"), err());
        assertEquals(2, run("pw\n", "add", "not a name"));
        assertTrue(err().contains("invalid user name"), err());
        assertEquals(1, run("\n", "add", "carol"));
        assertTrue(err().contains("no password"), err());
        assertEquals(1, run("", "add", "carol"), "end of input: no password");
        assertEquals(2, run("", "frobnicate"));
        assertTrue(err().contains("unknown user command"), err());
        assertEquals(2, run("", "add"));
        assertEquals(2, run(""));
        assertFalse(Files.exists(dir.resolve("users")), "nothing was written");
    }

    @Test
    void mainDispatchesUserWithConfig() throws Exception {
        Path config = dir.resolve("mailroot.yml");
        Files.writeString(config, "usersFile: users\n");
        // no console under surefire: the password is one line of standard input
        var stdin = System.in;
        System.setIn(new ByteArrayInputStream("pw\n".getBytes(StandardCharsets.UTF_8)));
        try {
            assertEquals(0, Main.run(new String[] {"user", "add", "dave", "--config", config.toString()}));
        } finally {
            System.setIn(stdin);
        }
        assertTrue(UserStore.load(dir.resolve("users")).contains("dave"));
    }
}
