package io.shardlift.core.catalog;

import java.util.List;

/**
 * An index that backs no constraint.
 *
 * @param method  the part of {@code pg_get_indexdef} from "USING" on: method, columns, INCLUDE, WITH, WHERE
 * @param columns key columns when every key part is a plain column; empty for expression indexes
 * @param plain   true when every key part is a plain column and there is no WHERE clause
 */
public record IndexInfo(String name, String method, boolean unique, List<String> columns, boolean plain) {
    public IndexInfo {
        columns = List.copyOf(columns);
    }
}
