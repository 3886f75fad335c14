package io.mailroot.core.message;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;

/** Queue ids: sortable by time, unique across nodes without coordination, safe as file names. */
public final class MessageIds {

    private static final SecureRandom RANDOM = new SecureRandom();
    /** What {@link #next()} makes: the time in base 36, a dot, 16 upper-case hex digits (no domain ends so). */
    private static final java.util.regex.Pattern FORMAT = java.util.regex.Pattern.compile("[0-9A-Z]{1,13}\\.[0-9A-F]{16}");

    private MessageIds() {
    }

    /** Whether {@code s} has the form of a queue id, so a command can tell an id from a domain. */
    public static boolean isId(String s) {
        return s != null && FORMAT.matcher(s).matches();
    }

    public static String next() {
        byte[] r = new byte[8];
        RANDOM.nextBytes(r);
        return Long.toString(Instant.now().toEpochMilli(), 36).toUpperCase(java.util.Locale.ROOT)
                + "." + HexFormat.of().withUpperCase().formatHex(r);
    }
}
