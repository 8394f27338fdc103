package io.shardlift.ops.verify;

/**
 * The 64-bit hash of a row's canonical text, the same SQL on the source and on every node. Chosen once per
 * comparison from the source's version: every node runs a PostgreSQL new enough for either.
 */
enum RowHash {
    /** PostgreSQL 11 and later: a seeded 64-bit hash of the text. */
    HASHTEXTEXTENDED {
        @Override
        String of(String text) {
            return "hashtextextended(" + text + ", 0)";
        }
    },
    /** PostgreSQL 10, which lacks hashtextextended: the first 64 bits of the text's MD5. */
    MD5 {
        @Override
        String of(String text) {
            return "('x' || left(md5(" + text + "), 16))::bit(64)::bigint";
        }
    };

    /** SQL for the hash (a bigint) of the text expression {@code text}. */
    abstract String of(String text);

    static RowHash forSourceVersion(int serverVersionNum) {
        return serverVersionNum >= 110000 ? HASHTEXTEXTENDED : MD5;
    }
}
