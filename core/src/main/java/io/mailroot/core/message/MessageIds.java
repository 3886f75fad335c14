package io.mailroot.core.message;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;

/** Queue ids: sortable by time, unique across nodes without coordination, safe as file names. */
public final class MessageIds {

    private static final SecureRandom RANDOM = new SecureRandom();

    private MessageIds() {
    }

    public static String next() {
        byte[] r = new byte[8];
        RANDOM.nextBytes(r);
        return Long.toString(Instant.now().toEpochMilli(), 36).toUpperCase(java.util.Locale.ROOT)
                + "." + HexFormat.of().withUpperCase().formatHex(r);
    }
}
