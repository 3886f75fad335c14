package io.mailroot.deliverer;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Which next hops get a metric tag of their own: at most {@code limit} of them, the busiest, and every other hop is
 * {@link #OTHER}. A relay delivers to any number of domains, so a tag per domain would grow without bound; with
 * this, a deliverer's series per meter stay at {@code limit + 1} however many domains it meets.
 *
 * <p>Volume is counted with the Space-Saving algorithm (Metwally et al.) in a table of {@code 4 * limit} entries,
 * so memory stays bounded too, and counts are halved every {@code decayEvery} deliveries so that a hop that was busy
 * last week does not hold its tag forever. A hop takes a full table's quietest named hop's tag only when it has
 * twice that hop's volume, so two hops of similar volume do not swap tags back and forth; the one that loses its
 * tag is passed to {@code demoted}, which removes its series.
 */
public final class TopHops {

    public static final String OTHER = "other";

    private final int limit;
    private final int capacity;
    private final long decayEvery;
    private final Consumer<String> demoted;
    private final Map<String, Long> volume = new HashMap<>();
    private final Set<String> named = new LinkedHashSet<>();
    private long seen;

    /**
     * @param limit how many hops keep a tag of their own
     * @param decayEvery after how many counted deliveries the volumes are halved
     * @param demoted told the hop that just lost its tag
     */
    public TopHops(int limit, long decayEvery, Consumer<String> demoted) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit " + limit);
        }
        this.limit = limit;
        this.capacity = 4 * limit;
        this.decayEvery = decayEvery;
        this.demoted = demoted;
    }

    /** Counts one delivery to {@code hop} and says which tag it goes under: its own name, or {@link #OTHER}. */
    public String tag(String hop) {
        String loser;
        synchronized (this) {
            long count = count(hop);
            if (named.contains(hop)) {
                return hop;
            }
            if (named.size() < limit) {
                named.add(hop);
                return hop;
            }
            loser = quietestNamed();
            if (count < 2 * volume.getOrDefault(loser, 0L)) {
                return OTHER;
            }
            named.remove(loser);
            named.add(hop);
        }
        demoted.accept(loser);
        return hop;
    }

    /** The hops that have a tag of their own now. */
    public synchronized Set<String> named() {
        return Set.copyOf(named);
    }

    private long count(String hop) {
        if (++seen % decayEvery == 0) {
            volume.replaceAll((h, n) -> n / 2);
            volume.values().removeIf(n -> n == 0);
        }
        Long n = volume.get(hop);
        if (n == null && volume.size() >= capacity) {
            // Space-Saving: the newcomer inherits the count of the entry it replaces, an upper bound of its own
            String evicted = null;
            long least = Long.MAX_VALUE;
            for (Map.Entry<String, Long> e : volume.entrySet()) {
                if (e.getValue() < least && !named.contains(e.getKey())) {
                    least = e.getValue();
                    evicted = e.getKey();
                }
            }
            if (evicted != null) {
                volume.remove(evicted);
                n = least;
            }
        }
        long next = (n == null ? 0 : n) + 1;
        volume.put(hop, next);
        return next;
    }

    private String quietestNamed() {
        String quietest = null;
        long least = Long.MAX_VALUE;
        for (String h : named) {
            long n = volume.getOrDefault(h, 0L);
            if (n < least) {
                least = n;
                quietest = h;
            }
        }
        return quietest;
    }
}
