package io.shardlift.core.spec;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import io.shardlift.core.TableId;

/**
 * A table as read, before cross-references are resolved. Null fields are absent or invalid (and reported).
 *
 * @param path the table entry's key path, e.g. {@code migrate.schemas[0].tables[2]}
 */
record TableDraft(String path, TableId id, TableType type, List<String> columns, JsonNode columnsNode, TableId colocate,
                  String colocateRaw, Integer partitions, boolean partitionsBad, int priority, boolean widenUnique) {
}
