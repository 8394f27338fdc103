package io.shardlift.core.plan;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Derived object names, kept within PostgreSQL's 63-byte identifier limit deterministically. */
final class Names {

    static final int MAX_IDENT_BYTES = 63;

    private Names() {
    }

    /** {@code base + suffix}; when too long, the base is shortened and tagged with a hash of the full name. */
    static String withSuffix(String base, String suffix) {
        String full = base + suffix;
        if (full.getBytes(StandardCharsets.UTF_8).length <= MAX_IDENT_BYTES) {
            return full;
        }
        String tag = "_" + sha256(full).substring(0, 8);
        int budget = MAX_IDENT_BYTES - suffix.getBytes(StandardCharsets.UTF_8).length - tag.length();
        StringBuilder cut = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < base.length(); ) {
            int cp = base.codePointAt(i);
            int len = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + len > budget) {
                break;
            }
            cut.appendCodePoint(cp);
            bytes += len;
            i += Character.charCount(cp);
        }
        return cut + tag + suffix;
    }

    static String partition(String table, int index) {
        return withSuffix(table, "_" + index);
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
