package io.mailroot.ingress.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * The keys web applications present as {@code Authorization: Bearer KEY}. Keys are compared as SHA-256 digests
 * with {@link MessageDigest#isEqual}, and against every key, so neither the time taken nor the key's length tells
 * a guesser how close it came.
 */
final class ApiKeys {

    private final List<byte[]> digests;

    ApiKeys(List<String> keys) {
        this.digests = keys.stream().map(ApiKeys::sha256).toList();
    }

    /** @return the position of the key presented (for the log and envelope, never the key itself), or -1 */
    int match(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return -1;
        }
        byte[] presented = sha256(authorization.substring(7).trim());
        int found = -1;
        for (int i = 0; i < digests.size(); i++) {
            if (MessageDigest.isEqual(digests.get(i), presented) && found < 0) {
                found = i;
            }
        }
        return found;
    }

    private static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
