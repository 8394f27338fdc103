package io.shardlift.cdc.capture;

import io.debezium.connector.postgresql.UnchangedToastedReplicationMessageColumn;
import io.debezium.spi.converter.CustomConverter;
import io.debezium.spi.converter.RelationalColumn;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.postgresql.jdbc.PgArray;
import org.postgresql.util.PGobject;

/**
 * Hands Debezium the PostgreSQL text of the columns whose types its own converters would change (a
 * multi-dimensional array or one with lower bounds arrives as NULLs, a bit string loses its length, a point
 * becomes a struct, types it does not know are dropped). pgoutput sends every value as the type's output text;
 * Debezium wraps arrays (PgArray) and geometric values (PGobject) around that text before any converter runs,
 * and both give it back unchanged. Public because Debezium instantiates it by class name.
 */
public final class TextConverter implements CustomConverter<SchemaBuilder, RelationalColumn> {

    /** Property (under the {@code shardlift.} prefix Debezium strips) listing the columns to take as text. */
    static final String COLUMNS = "columns";
    static final String PLACEHOLDER = "placeholder";
    /** Prefix of the value handed over for a representation this converter does not know; never PostgreSQL text. */
    static final String UNKNOWN = "\u0000shardlift:unknown-representation\u0000";

    private Set<String> columns = Set.of();
    private String placeholder;

    /** The property value for {@code table.column} entries ({@code dataCollection} as Debezium names the table). */
    static String encode(Collection<String[]> tableAndColumn) {
        return tableAndColumn.stream().map(tc -> key(tc[0], tc[1])).map(k -> URLEncoder.encode(k, StandardCharsets.UTF_8))
                .collect(Collectors.joining(","));
    }

    private static String key(String dataCollection, String column) {
        return dataCollection + '\u0000' + column; // NUL cannot occur in a PostgreSQL identifier
    }

    @Override
    public void configure(Properties props) {
        String list = props.getProperty(COLUMNS, "");
        columns = list.isEmpty() ? Set.of() : Arrays.stream(list.split(","))
                .map(e -> URLDecoder.decode(e, StandardCharsets.UTF_8)).collect(Collectors.toUnmodifiableSet());
        placeholder = props.getProperty(PLACEHOLDER);
    }

    @Override
    public void converterFor(RelationalColumn field, ConverterRegistration<SchemaBuilder> registration) {
        if (!columns.contains(key(field.dataCollection(), field.name()))) {
            return;
        }
        registration.register(SchemaBuilder.string().optional(), this::text);
    }

    private Object text(Object v) {
        if (v == null) {
            return null;
        }
        if (UnchangedToastedReplicationMessageColumn.isUnchangedToastedValue(v)) {
            return placeholder;
        }
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof PgArray a) {
            return a.toString(); // the array literal as received: dimensions, bounds and element text intact
        }
        if (v instanceof PGobject o) {
            return o.getValue();
        }
        // Debezium turns a converter's exception into a NULL value, silently: hand the capture a value it refuses
        return UNKNOWN + v.getClass().getName();
    }
}
