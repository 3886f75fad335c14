package io.mailroot.ingress.auth;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * A salted, deliberately slow password hash (PBKDF2 with HMAC-SHA256, the JDK's own implementation), stored as
 * {@code pbkdf2-sha256:ITERATIONS:SALT:HASH} with base64 salt and hash. Plain text is never stored.
 */
public record PasswordHash(int iterations, byte[] salt, byte[] hash) {

    /** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
    public static final int ITERATIONS = 600_000;
    private static final String SCHEME = "pbkdf2-sha256";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** For tests: hashes derived so far in this JVM, those running now and the most seen running at once. */
    static final AtomicLong DERIVED = new AtomicLong();
    static final AtomicInteger RUNNING = new AtomicInteger();
    static final AtomicInteger PEAK = new AtomicInteger();

    public static PasswordHash create(char[] password) {
        return create(password, ITERATIONS);
    }

    public static PasswordHash create(char[] password, int iterations) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return new PasswordHash(iterations, salt, derive(password, salt, iterations));
    }

    public boolean matches(char[] password) {
        return MessageDigest.isEqual(hash, derive(password, salt, iterations));
    }

    public String encode() {
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return SCHEME + ":" + iterations + ":" + b64.encodeToString(salt) + ":" + b64.encodeToString(hash);
    }

    public static PasswordHash decode(String text) {
        String[] p = text.split(":");
        if (p.length != 4 || !p[0].equals(SCHEME)) {
            throw new IllegalArgumentException("not a " + SCHEME + " hash");
        }
        Base64.Decoder b64 = Base64.getDecoder();
        return new PasswordHash(Integer.parseInt(p[1]), b64.decode(p[2]), b64.decode(p[3]));
    }

    private static byte[] derive(char[] password, byte[] salt, int iterations) {
        DERIVED.incrementAndGet();
        PEAK.accumulateAndGet(RUNNING.incrementAndGet(), Math::max);
        try {
            PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, 256);
            try {
                return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
            } finally {
                spec.clearPassword();
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is missing from this JDK", e);
        } finally {
            RUNNING.decrementAndGet();
        }
    }
}
