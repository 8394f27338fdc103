package io.shardlift.cdc.event;

import io.shardlift.core.catalog.ColumnInfo;
import java.util.Optional;

/** Catalog columns for tests, as SourceCatalog would read them. */
final class Columns {

    private Columns() {
    }

    static ColumnInfo col(String name, String type, String typname) {
        return col(name, type, typname, 'b', "pg_catalog");
    }

    static ColumnInfo col(String name, String type, String typname, char typtype, String typeSchema) {
        return new ColumnInfo(name, 1, type, typname, typtype, typeSchema, false, Optional.empty(), '0',
                Optional.empty(), Optional.empty(), true, Optional.empty());
    }
}
