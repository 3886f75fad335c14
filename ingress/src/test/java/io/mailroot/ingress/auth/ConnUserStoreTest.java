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
    void anAttemptCountsAsAFailureWhileItsHashRuns() throws Exception {
        AuthFailures failures = new AuthFailures(2, Duration.ofMinutes(1));
        InetAddress a = InetAddress.getByName("192.0.2.3");
        assertEquals(AuthFailures.Admission.ADMITTED, failures.admit(a));
        assertEquals(AuthFailures.Admission.ADMITTED, failures.admit(a));
        assertEquals(AuthFailures.Admission.TOO_MANY_AT_ONCE, failures.admit(a), "two checks under way make two failures");
        failures.notChecked(a);
        assertEquals(AuthFailures.Admission.ADMITTED, failures.admit(a), "an attempt never checked counts for nothing");
        failures.succeeded(a);
        assertEquals(AuthFailures.Admission.ADMITTED, failures.admit(a), "a success forgives");
    }

    @Test
    void noMoreHashesRunAtOnceThanThereAreSlots() throws Exception {
        HashSlots slots = new HashSlots(2, Duration.ofSeconds(30));
        java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger peak = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(6);
        try {
            var results = new java.util.ArrayList<java.util.concurrent.Future<Integer>>();
            for (int i = 0; i < 6; i++) {
                results.add(pool.submit(() -> slots.run(() -> {
                    peak.accumulateAndGet(running.incrementAndGet(), Math::max);
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return running.decrementAndGet();
                })));
            }
            io.mailroot.testkit.Await.until("two checks in their slots", Duration.ofSeconds(10), () -> running.get() == 2);
            release.countDown();
            for (var r : results) {
                r.get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            assertEquals(2, peak.get());
        } finally {
            pool.shutdownNow();
        }
        HashSlots one = new HashSlots(1, Duration.ofMillis(50));
        java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Thread holder = new Thread(() -> {
            try {
                one.run(() -> {
                    inside.countDown();
                    try {
                        return done.await(30, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        return false;
                    }
                });
            } catch (HashSlots.Busy e) {
                throw new AssertionError(e);
            }
        });
        holder.start();
        assertTrue(inside.await(10, java.util.concurrent.TimeUnit.SECONDS));
        assertThrows(HashSlots.Busy.class, () -> one.run(() -> true), "no slot free within the wait");
        done.countDown();
        holder.join();
    }

    @Test
    void failuresAreCountedPerAddressSlowedAndLockedOut() throws Exception {
        AuthFailures failures = new AuthFailures(3, Duration.ofMinutes(1), Duration.ofMillis(100), Duration.ofMillis(150));
        InetAddress a = InetAddress.getByName("192.0.2.1");
        InetAddress b = InetAddress.getByName("192.0.2.2");
        assertEquals(AuthFailures.Admission.ADMITTED, failures.admit(a));
        assertEquals(Duration.ZERO, failures.failed(a));
        assertEquals(AuthFailures.Admission.ADMITTED, failures.admit(a));
        assertEquals(Duration.ofMillis(100), failures.failed(a));
        assertFalse(failures.lockedOut(a));
        assertEquals(AuthFailures.Admission.ADMITTED, failures.admit(a));
        assertEquals(Duration.ofMillis(150), failures.failed(a), "capped");
        assertTrue(failures.lockedOut(a));
        assertEquals(AuthFailures.Admission.LOCKED_OUT, failures.admit(a));
        assertFalse(failures.lockedOut(b));
        AuthFailures brief = new AuthFailures(1, Duration.ofMillis(1));
        brief.admit(b);
        brief.failed(b);
        io.mailroot.testkit.Await.until("the lockout to expire", Duration.ofSeconds(5), () -> !brief.lockedOut(b));
    }
}
