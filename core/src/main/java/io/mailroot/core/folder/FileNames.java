package io.mailroot.core.folder;

import java.util.regex.Pattern;

/** File names made from ids and names the service did not choose itself (queue ids, record keys, host names). */
public final class FileNames {

    private static final Pattern UNSAFE = Pattern.compile("[^A-Za-z0-9._-]");

    private FileNames() {
    }

    /**
     * The text with anything but letters, digits, dot, hyphen and underscore replaced by {@code _}, so it names one
     * file in the folder on every platform (no separator, no {@code ..} escape), and a leading dot made {@code _}:
     * such a name would be hidden, and look like {@link AtomicFiles}' temporary files.
     */
    public static String safe(String text) {
        String safe = UNSAFE.matcher(text).replaceAll("_");
        return safe.startsWith(".") ? "_" + safe.substring(1) : safe;
    }
}
