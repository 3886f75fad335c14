package io.mailroot.ingress.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConnUserStoreTest {

    @TempDir
    Path dir;

    @Test
    void passwordsAreStoredAsSaltedHashesAndSurviveAReload() throws Exception {
        Path file = dir.resolve("users");
        UserStore store = UserStore.empty(file);
        store.put("Alice@Example.com", "s3cret".toCharArray(), 1000);
        store.put("bob", "s3cret".toCharArray(), 1000);
        String text = Files.readString(file);
        assertFalse(text.contains("s3cret"), text);
        assertTrue(text.contains("alice@example.com:pbkdf2-sha256:1000:"), text);
        UserStore again = UserStore.load(file);
        assertTrue(again.verify("ALICE@example.com", "s3cret".toCharArray()));
        assertFalse(again.verify("alice@example.com", "S3cret".toCharArray()));
        assertFalse(again.verify("nobody", "s3cret".toCharArray()));
        String[] alice = text.lines().filter(l -> l.startsWith("alice")).findFirst().orElseThrow().split(":");
        String[] bob = text.lines().filter(l -> l.startsWith("bob")).findFirst().orElseThrow().split(":");
        assertFalse(alice[4].equals(bob[4]), "same password, different salt and hash");
        assertTrue(again.remove("bob"));
        assertFalse(UserStore.load(file).contains("bob"));
        assertEquals(PasswordHash.ITERATIONS, 600_000, "production hashes stay slow");
    }

    @Test
    void badNamesEmptyPasswordsAndBrokenFilesAreRefused() throws Exception {
        UserStore store = UserStore.empty(dir.resolve("users"));
        assertThrows(IllegalArgumentException.class, () -> store.put("a b", "x".toCharArray(), 1000));
        assertThrows(IllegalArgumentException.class, () -> store.put("a:b", "x".toCharArray(), 1000));
        assertThrows(IllegalArgumentException.class, () -> store.put("carol", new char[0], 1000));
        Path broken = dir.resolve("broken");
        Files.writeString(broken, "carol:plaintext\n");
        assertThrows(IOException.class, () -> UserStore.load(broken));
    }

    @Test
    void theDirectorySeesChangesToTheFile() throws Exception {
        Path file = dir.resolve("users");
        UserDirectory users = new UserDirectory(file);
        assertFalse(users.verify("dave", "pw".toCharArray()), "no file: nobody");
        UserStore.empty(file).put("dave", "pw".toCharArray(), 1000);
        assertTrue(users.verify("dave", "pw".toCharArray()));
    }

    @Test
    void failuresAreCountedPerAddressSlowedAndLockedOut() throws Exception {
        AuthFailures failures = new AuthFailures(3, Duration.ofMinutes(1), Duration.ofMillis(100), Duration.ofMillis(150));
        InetAddress a = InetAddress.getByName("192.0.2.1");
        InetAddress b = InetAddress.getByName("192.0.2.2");
        assertEquals(Duration.ZERO, failures.failed(a));
        assertEquals(Duration.ofMillis(100), failures.failed(a));
        assertFalse(failures.lockedOut(a));
        assertEquals(Duration.ofMillis(150), failures.failed(a), "capped");
        assertTrue(failures.lockedOut(a));
        assertFalse(failures.lockedOut(b));
        AuthFailures brief = new AuthFailures(1, Duration.ofMillis(1));
        brief.failed(b);
        io.mailroot.testkit.Await.until("the lockout to expire", Duration.ofSeconds(5), () -> !brief.lockedOut(b));
    }
}
