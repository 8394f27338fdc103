package io.shardlift.core.spec;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import io.shardlift.core.TableId;

/**
 * A schema's {@code unlisted:} rule as read, before its colocation is resolved. Null fields are absent or invalid
 * (and reported).
 *
 * @param path the rule's key path, e.g. {@code migrate.schemas[0].unlisted}
 */
record UnlistedDraft(String path, String schema, TableType type, List<String> columns, JsonNode columnsNode,
                     TableId colocate, String colocateRaw, Integer partitions, boolean partitionsBad) {
}
