package io.shardlift.ops.control;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.function.Function;

/**
 * The cutover token, read once from the environment variable the spec names. Only its SHA-256 digest is
 * kept, so the token is in no field, no toString and no heap dump of this object, and comparing two
 * digests of fixed length takes the same time whatever the presented token is.
 */
final class BearerToken {

    /** Shorter tokens are accepted but logged as weak: they can be guessed. */
    static final int RECOMMENDED_LENGTH = 16;

    private static final String SCHEME = "Bearer";

    enum Check {
        ACCEPTED,
        /** No Authorization header, or not the Bearer scheme, or an empty token. */
        MISSING,
        WRONG
    }

    private final String variable;
    private final byte[] digest;
    private final String unavailable;
    private final boolean weak;

    private BearerToken(String variable, byte[] digest, String unavailable, boolean weak) {
        this.variable = variable;
        this.digest = digest;
        this.unavailable = unavailable;
        this.weak = weak;
    }

    /** Reads the token from {@code variable}; {@code env} is {@code System::getenv} outside tests. */
    static BearerToken fromEnvironment(String variable, Function<String, String> env) {
        String token = env.apply(variable);
        if (token == null) {
            return new BearerToken(variable, null, "the environment variable " + variable + " (control.token_env) is not "
                    + "set, so POST /cutover is disabled: set " + variable + " to the cutover token and restart shardlift run",
                    false);
        }
        if (token.isEmpty()) {
            return new BearerToken(variable, null, "the environment variable " + variable + " (control.token_env) is "
                    + "empty, so POST /cutover is disabled: set " + variable + " to the cutover token and restart shardlift run",
                    false);
        }
        return new BearerToken(variable, sha256(token), null, token.length() < RECOMMENDED_LENGTH);
    }

    /** The name of the environment variable (never its value). */
    String variable() {
        return variable;
    }

    boolean available() {
        return digest != null;
    }

    /** Why POST /cutover is disabled, naming the variable to set; null when available. */
    String unavailableReason() {
        return unavailable;
    }

    boolean weak() {
        return weak;
    }

    /** Checks an {@code Authorization} header value. Must only be called when {@link #available()}. */
    Check check(String authorization) {
        if (digest == null) {
            throw new IllegalStateException(unavailable);
        }
        String presented = credentials(authorization);
        if (presented == null) {
            return Check.MISSING;
        }
        return MessageDigest.isEqual(digest, sha256(presented)) ? Check.ACCEPTED : Check.WRONG;
    }

    /** The token of a {@code Bearer} header (scheme case-insensitive, RFC 7235), or null. */
    static String credentials(String authorization) {
        if (authorization == null) {
            return null;
        }
        String h = authorization.strip();
        if (h.length() <= SCHEME.length() || !h.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
                || h.charAt(SCHEME.length()) != ' ') {
            return null;
        }
        String token = h.substring(SCHEME.length() + 1).strip();
        return token.isEmpty() ? null : token;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "BearerToken[" + variable + (available() ? ", set" : ", not set") + "]";
    }
}
