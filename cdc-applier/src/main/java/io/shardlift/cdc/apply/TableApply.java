package io.shardlift.cdc.apply;

import io.shardlift.cdc.event.ColumnCodec;
import io.shardlift.cdc.event.Row;
import io.shardlift.cdc.event.TableCodec;
import io.shardlift.cdc.event.ValueKind;
import io.shardlift.core.Sql;
import io.shardlift.core.TableId;
import io.shardlift.core.route.TableRoute;
import io.shardlift.core.plan.TablePlan;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Everything the applier needs for one table, resolved once: codec, route, which columns are written,
 * the key the nodes enforce, and the SQL for each of its partition tables. The per-event path only indexes
 * arrays.
 */
final class TableApply {

    final TablePlan plan;
    final TableCodec codec;
    final TableRoute route;
    /** Codec column positions of the sharding key, in key order. */
    final int[] shardKeyCols;
    /** Codec column positions written to the nodes: all of them (generated columns are not in the codec). */
    final int[] writeCols;
    /** Codec column positions of the conflict key the nodes enforce (the widened primary key, if widened). */
    final int[] targetKeyCols;
    /**
     * True when the source primary key lacks part of the sharding key (widen_unique): a DELETE then carries
     * no sharding key and is sent to every partition, and an UPDATE may move a row to another partition.
     */
    final boolean widened;
    /**
     * True when the change's key holds columns the target's key lacks: the reverse stream of a widened table, whose
     * cluster key holds the sharding key and whose source key does not. A row that moved to another sharding key moved
     * to another node, whose changes travel in another capture's stream with no order against the first's, so a change
     * cannot be trusted to be the row's latest: the row is read anew where the changes come from ({@link ChangeRouter}).
     */
    final boolean keyedWider;
    private final KeyAdapter[] keyAdapters;
    private final Map<TableId, Sql3> sqlByPartition = new ConcurrentHashMap<>();
    private final Map<BitSet, String> partialTemplates = new ConcurrentHashMap<>();
    private final Map<TableId, BitSet> alwaysByPartition = new ConcurrentHashMap<>();

    TableApply(TablePlan plan, TableCodec codec, TableRoute route) {
        this.plan = plan;
        this.codec = codec;
        this.route = route;
        this.shardKeyCols = plan.keyColumns().stream().mapToInt(codec::indexOf).toArray();
        this.writeCols = IntStream.range(0, codec.columns().size()).toArray();
        this.targetKeyCols = plan.primaryKey().columns().stream().mapToInt(codec::indexOf).toArray();
        List<String> sourcePk = plan.source().primaryKey().orElseThrow().columns();
        this.widened = plan.sharded() && !sourcePk.containsAll(plan.keyColumns());
        this.keyedWider = IntStream.range(0, codec.keySize()).map(codec::keyIndex)
                .anyMatch(i -> IntStream.of(targetKeyCols).noneMatch(k -> k == i));
        this.keyAdapters = new KeyAdapter[shardKeyCols.length];
        for (int i = 0; i < shardKeyCols.length; i++) {
            keyAdapters[i] = KeyAdapter.of(codec.column(shardKeyCols[i]).kind());
        }
    }

    TableId id() {
        return plan.id();
    }

    /** Hash partition of a full row; 0 for reference tables (their one table). */
    int hashPartitionOfRow(Row after) {
        if (!plan.sharded()) {
            return 0;
        }
        Object[] key = new Object[shardKeyCols.length];
        for (int i = 0; i < key.length; i++) {
            Object v = after.get(shardKeyCols[i]);
            if (v == null || v == Row.UNCHANGED) {
                throw new IllegalStateException(plan.id() + ": sharding key column " + codec.column(shardKeyCols[i]).name()
                        + " is " + (v == null ? "NULL" : "missing") + " in a change — a row must have a sharding key");
            }
            key[i] = keyAdapters[i].adapt(codec, after, shardKeyCols[i], v);
        }
        return route.partitionOf(key);
    }

    /** Hash partition of a DELETE's key (source primary key, which holds the sharding key unless widened). */
    int hashPartitionOfKey(Row key) {
        if (!plan.sharded()) {
            return 0;
        }
        Object[] values = new Object[shardKeyCols.length];
        for (int i = 0; i < values.length; i++) {
            int col = shardKeyCols[i];
            int k = keyPositionInSourceKey(col);
            values[i] = keyAdapters[i].adaptKey(codec, key, k, key.get(k));
        }
        return route.partitionOf(values);
    }

    /** The node that owns a hash partition of this (sharded) table. */
    int nodeOf(int hashPartition) {
        return route.nodeOfPartition(hashPartition);
    }

    private int keyPositionInSourceKey(int col) {
        for (int k = 0; k < codec.keySize(); k++) {
            if (codec.keyIndex(k) == col) {
                return k;
            }
        }
        throw new IllegalStateException(plan.id() + ": sharding key column not in the primary key");
    }

    /** The SQL of one partition table (or the reference table itself), as {@code target} has it. */
    Sql3 sql(TableId part, java.sql.Connection target) throws java.sql.SQLException {
        Sql3 sql = sqlByPartition.get(part);
        if (sql == null) {
            sql = build(part, generatedAlways(part, target));
            sqlByPartition.put(part, sql);
        }
        return sql;
    }

    /**
     * The columns that are GENERATED ALWAYS identity columns of {@code part} on the target, read once: an INSERT sets
     * them with OVERRIDING SYSTEM VALUE, but nothing lets an UPDATE set one to a value. The nodes have none (an identity
     * is a column with the sequence's nextval as its default there); the reverse stream's target, the source, may.
     */
    BitSet generatedAlways(TableId part, java.sql.Connection target) throws java.sql.SQLException {
        BitSet always = alwaysByPartition.get(part);
        if (always == null) {
            always = new BitSet();
            try (java.sql.PreparedStatement ps = target.prepareStatement("SELECT attname FROM pg_catalog.pg_attribute"
                    + " WHERE attrelid = to_regclass(?) AND attidentity = 'a' AND attnum > 0 AND NOT attisdropped")) {
                ps.setString(1, part.quoted());
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        int i = codec.indexOf(rs.getString(1));
                        if (i >= 0) {
                            always.set(i);
                        }
                    }
                }
            }
            alwaysByPartition.put(part, always);
        }
        return always;
    }

    /** True for a column of the change's key: an UPDATE finds the row by it and never sets it (see NodeWriter). */
    boolean isKeyColumn(int col) {
        for (int k = 0; k < codec.keySize(); k++) {
            if (codec.keyIndex(k) == col) {
                return true;
            }
        }
        return false;
    }

    /** UPDATE of only the columns present (unchanged TOAST columns keep what the node has). */
    String partialUpdate(TableId part, BitSet present) {
        String template = partialTemplates.computeIfAbsent((BitSet) present.clone(), cols -> {
            String set = cols.stream().mapToObj(i -> Sql.ident(codec.column(i).name()) + " = ?::" + codec.column(i).type())
                    .collect(Collectors.joining(", "));
            return "UPDATE %s SET " + set + " WHERE " + sourceKeyPredicate();
        });
        return String.format(template, part.quoted());
    }

    private String sourceKeyPredicate() {
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < codec.keySize(); k++) {
            ColumnCodec c = codec.column(codec.keyIndex(k));
            parts.add(Sql.ident(c.name()) + " = ?::" + c.type());
        }
        return String.join(" AND ", parts);
    }

    private Sql3 build(TableId part, BitSet generatedAlways) {
        String cols = IntStream.of(writeCols).mapToObj(i -> Sql.ident(codec.column(i).name())).collect(Collectors.joining(", "));
        String casts = IntStream.range(0, writeCols.length).mapToObj(j -> "u.c" + j + "::" + codec.column(writeCols[j]).type())
                .collect(Collectors.joining(", "));
        String arrays = IntStream.range(0, writeCols.length).mapToObj(j -> "?::text[]").collect(Collectors.joining(", "));
        String aliases = IntStream.range(0, writeCols.length).mapToObj(j -> "c" + j).collect(Collectors.joining(", "));
        String conflict = IntStream.of(targetKeyCols).mapToObj(i -> Sql.ident(codec.column(i).name())).collect(Collectors.joining(", "));
        // a GENERATED ALWAYS identity of the target is not set by the update: the row keeps the value it has there
        String updates = IntStream.of(writeCols).filter(i -> IntStream.of(targetKeyCols).noneMatch(k -> k == i))
                .filter(i -> !generatedAlways.get(i))
                .mapToObj(i -> Sql.ident(codec.column(i).name()) + " = EXCLUDED." + Sql.ident(codec.column(i).name()))
                .collect(Collectors.joining(", "));
        // OVERRIDING SYSTEM VALUE: the reverse stream's target, the source, may have GENERATED ALWAYS identity columns
        // (the nodes have plain defaults), and the values written are the ones the rows have where they came from
        String upsert = "INSERT INTO " + part.quoted() + " (" + cols + ") OVERRIDING SYSTEM VALUE SELECT " + casts + " FROM unnest(" + arrays + ") AS u("
                + aliases + ") ON CONFLICT (" + conflict + ") " + (updates.isEmpty() ? "DO NOTHING" : "DO UPDATE SET " + updates);

        String keyCols = IntStream.range(0, codec.keySize()).mapToObj(k -> Sql.ident(codec.column(codec.keyIndex(k)).name()))
                .collect(Collectors.joining(", "));
        String keyCasts = IntStream.range(0, codec.keySize()).mapToObj(k -> "u.k" + k + "::" + codec.column(codec.keyIndex(k)).type())
                .collect(Collectors.joining(", "));
        String keyArrays = IntStream.range(0, codec.keySize()).mapToObj(k -> "?::text[]").collect(Collectors.joining(", "));
        String keyAliases = IntStream.range(0, codec.keySize()).mapToObj(k -> "k" + k).collect(Collectors.joining(", "));
        String delete = "DELETE FROM " + part.quoted() + " WHERE (" + keyCols + ") IN (SELECT " + keyCasts + " FROM unnest("
                + keyArrays + ") AS u(" + keyAliases + "))";
        return new Sql3(upsert, delete);
    }

    /** Bulk upsert and bulk delete of one partition table, one array parameter per column. */
    record Sql3(String upsert, String delete) {
    }

    /** Turns an event value of a sharding-key column into what the key hasher takes. */
    interface KeyAdapter {
        Object adapt(TableCodec codec, Row row, int col, Object value);

        default Object adaptKey(TableCodec codec, Row key, int k, Object value) {
            return adapt(codec, key, -1 - k, value);
        }

        static KeyAdapter of(ValueKind kind) {
            return switch (kind) {
                case INT16, INT32, INT64, BOOL -> (codec, row, col, v) -> v;
                case DATE -> (codec, row, col, v) -> LocalDate.ofEpochDay((Long) v);
                case TIMESTAMP -> (codec, row, col, v) -> {
                    long micros = (Long) v;
                    return LocalDateTime.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
                            (int) Math.floorMod(micros, 1_000_000L) * 1000, ZoneOffset.UTC);
                };
                // text, varchar, char(n), uuid, numeric and timestamptz travel as PostgreSQL's (ISO) text
                default -> (codec, row, col, v) -> v.toString();
            };
        }
    }
}
