package io.mailroot.ingress.pickup;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Tells a complete Pickup file from one still being written. IIS-era writers create the file and then write
 * into it, so its name appears before its content is whole. On Windows a writer's open handle makes our rename
 * fail, but on Unix a rename succeeds under a writer's feet, so the rename alone proves nothing: a file is taken
 * only when two looks at least the quiet period apart saw the same size and modification time.
 */
final class SettledFiles {

    private record State(long size, long modified, long firstSeenNanos) {
    }

    private final long quietNanos;
    private final Map<Path, State> seen = new HashMap<>();

    SettledFiles(long quietNanos) {
        this.quietNanos = quietNanos;
    }

    /** Records this look at the file; true when it has not changed for the quiet period. */
    boolean settled(Path file, long size, long modified, long nowNanos) {
        State before = seen.get(file);
        if (before == null || before.size != size || before.modified != modified) {
            seen.put(file, new State(size, modified, nowNanos));
            return false;
        }
        return nowNanos - before.firstSeenNanos >= quietNanos;
    }

    /** How long until the earliest file being watched could be settled; the quiet period when none is. */
    long nanosUntilNextSettles(long nowNanos) {
        long wait = quietNanos;
        for (State s : seen.values()) {
            wait = Math.min(wait, Math.max(0, s.firstSeenNanos + quietNanos - nowNanos));
        }
        return wait;
    }

    /** Forgets files that are gone (taken, or removed by someone else). */
    void retainOnly(Set<Path> present) {
        seen.keySet().retainAll(present);
    }

    void forget(Path file) {
        seen.remove(file);
    }
}
