package io.shardlift.core.spec;

/** Key paths as shown in problems: {@code migrate.schemas[0].tables[2].distributedby}. */
final class Paths {

    private Paths() {
    }

    static String child(String parent, String key) {
        return parent == null || parent.isEmpty() ? key : parent + "." + key;
    }

    static String index(String parent, int i) {
        return parent + "[" + i + "]";
    }
}
