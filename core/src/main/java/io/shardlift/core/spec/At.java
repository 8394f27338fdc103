package io.shardlift.core.spec;

import com.fasterxml.jackson.databind.JsonNode;

/** A value and the key path it was found at; {@code node} is null when the key is absent. */
record At(String path, JsonNode node) {

    boolean absent() {
        return node == null || node.isMissingNode();
    }

    /** Absent, or written as an empty value ({@code key:}). */
    boolean blank() {
        return absent() || node.isNull();
    }
}
