package io.shardlift.ops.cutover;

import io.shardlift.cdc.apply.ChangeJournal;
import io.shardlift.core.TableId;
import io.shardlift.core.TargetException;
import io.shardlift.core.plan.ClusterPlan;
import io.shardlift.ops.verify.KeyCheck;
import io.shardlift.ops.verify.Verifier;
import io.shardlift.ops.verify.VerifyOptions;
import io.shardlift.ops.verify.VerifyReport;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How the cutover proves that the cluster holds the source's content, not just as many rows, without a freeze that
 * grows with the data.
 *
 * <ol>
 *   <li>{@link #begin}: the applier starts a journal of the keys it routes (before the pre-drain, whose marker
 *       round makes sure nothing routed before it is still on its way to a node);</li>
 *   <li>{@link #beforeFreeze}, writes flowing: every row of every table compared (the chunked row hashes of
 *       {@code verify}); the rows found different, and the rows changed meanwhile (the journal's first part), are
 *       compared again by key once a marker went through. A row differs then only if it changed once more (it is in
 *       the journal's second part) or really differs: refused before anything is fenced, naming table and key;</li>
 *   <li>{@link #insideFreeze}, writes fenced and drained: the rows still in doubt and every row changed since the
 *       second comparison began are compared by key. A row neither changed since the full comparison nor found
 *       different by it was equal then and is equal now, as neither side touched it.</li>
 * </ol>
 * A TRUNCATE during the proof, or an applier that shares the stream with others ({@code shardlift apply}, whose
 * changes this journal does not see), makes the whole table, or every table, be compared again inside the freeze.
 *
 * <p>The rollback proves the way back the same way ({@link #reverse}): the journal is then the reverse applier's, which
 * writes the cluster's changes to the source, and the marker rounds go from the nodes to the source.
 */
final class ContentProof implements AutoCloseable {

    /** Keys the journal may hold before the proof gives up: more would make the freeze too long anyway. */
    static final int MAX_KEYS = 200_000;
    /** Differing keys listed per table and kind by the full comparison before more means "not in flight". */
    static final int KEY_LIMIT = 10_000;

    /** One round of a marker through the whole stream, writes flowing. */
    interface MarkerRound {
        void run() throws java.sql.SQLException, InterruptedException;
    }

    private final ClusterPlan plan;
    private final ChangeJournal journal;
    private final boolean journalComplete;
    /** The rollback's proof: the source must hold the cluster's content. */
    private final boolean reverse;
    /**
     * Per table whose journal keys have other columns than its source primary key (the reverse stream of a table whose
     * cluster key also holds the sharding key): the positions of the source key's columns in the journal's key.
     */
    private final Map<TableId, int[]> keyProjection;
    private KeyCheck keys;
    private Map<TableId, Set<List<String>>> pending = new LinkedHashMap<>();
    private final Set<TableId> whole = new HashSet<>();

    ContentProof(ClusterPlan plan, ChangeJournal journal, boolean journalComplete) {
        this(plan, journal, journalComplete, false, Map.of());
    }

    private ContentProof(ClusterPlan plan, ChangeJournal journal, boolean journalComplete, boolean reverse, Map<TableId, int[]> keyProjection) {
        this.plan = plan;
        this.journal = journal;
        this.journalComplete = journalComplete;
        this.reverse = reverse;
        this.keyProjection = keyProjection;
    }

    /**
     * The rollback's proof, over the reverse applier's journal, whose keys are the cluster's: {@code journalKeys} gives
     * each table's key columns there, projected onto the source's primary key where they differ.
     */
    static ContentProof reverse(ClusterPlan plan, ChangeJournal journal, boolean journalComplete, Map<TableId, List<String>> journalKeys) {
        Map<TableId, int[]> projection = new LinkedHashMap<>();
        for (var t : plan.tables()) {
            List<String> sourceKey = t.source().primaryKey().orElseThrow().columns();
            List<String> given = journalKeys.getOrDefault(t.id(), sourceKey);
            if (!given.equals(sourceKey)) {
                projection.put(t.id(), sourceKey.stream().mapToInt(given::indexOf).toArray());
            }
        }
        return new ContentProof(plan, journal, journalComplete, true, projection);
    }

    void begin() {
        journal.open(MAX_KEYS);
        keys = KeyCheck.open(plan);
    }

    /** The full comparison and the recheck of what was in flight; throws a {@link Refusal} if content differs. */
    String beforeFreeze(MarkerRound round) throws java.sql.SQLException, InterruptedException {
        VerifyReport full = new Verifier(plan, new VerifyOptions(2, VerifyOptions.DEFAULT_CHUNK_ROWS, KEY_LIMIT)).run();
        if (!full.shapes().isEmpty()) {
            // the verifier leaves out the rows of a table whose shape differs (they would be compared on columns one side
            // lacks): passing on would take such a table over with its content never compared
            throw new Refusal("content", "a table's shape differs between the source and the cluster, so its rows cannot be"
                    + " compared: " + String.join("; ", full.shapes().stream().limit(10).toList()) + " — nothing was fenced; "
                    + (reverse ? "schema changes are not carried back to the source while the rollback window is open: make"
                    + " the source's table alike, then roll back" : "a schema change the stream has not carried yet? ask again"
                    + " once it has; otherwise make the two alike (`shardlift verify` lists the differences)"));
        }
        Map<TableId, Set<List<String>>> suspects = new LinkedHashMap<>();
        long rows = 0;
        for (VerifyReport.TableReport t : full.tables()) {
            rows += t.sourceRows();
            if (t.equal()) {
                continue;
            }
            if (t.keysTruncated()) {
                throw new Refusal("content", t.table() + ": more than " + KEY_LIMIT + " rows differ between the source and the"
                        + " cluster, more than changes in flight explain — nothing was fenced; run `shardlift verify` for the keys");
            }
            t.keys().forEach(k -> suspects.computeIfAbsent(t.table(), x -> new HashSet<>()).add(k.key()));
        }
        ChangeJournal.Generation during = journal.rotate();
        requireBounded(during, "the full comparison");
        whole.addAll(during.truncated());
        merge(suspects, projected(during));
        round.run(); // what was routed before the rotation is on the nodes now
        List<KeyCheck.Difference> first = keys.differences(suspects, Integer.MAX_VALUE);
        // a row that differs again after one more marker went through, while its source row stayed as it was, is
        // not a change in flight: whatever made the source row so was committed before that marker, and applied
        List<KeyCheck.Difference> still = List.of();
        if (!first.isEmpty()) {
            round.run();
            still = keys.differences(keysOf(first), Integer.MAX_VALUE);
            Map<List<Object>, Long> before = new java.util.HashMap<>();
            first.forEach(d -> before.put(List.of(d.table(), d.key()), d.sourceHash()));
            List<String> real = still.stream()
                    .filter(d -> before.containsKey(List.of(d.table(), d.key()))
                            && java.util.Objects.equals(before.get(List.of(d.table(), d.key())), d.sourceHash()))
                    .limit(10).map(KeyCheck.Difference::toString).toList();
            if (!real.isEmpty()) {
                throw new Refusal("content", "the cluster's content differs from the source's, and not because a change is"
                        + " in flight: " + String.join("; ", real) + " — nothing was fenced; run `shardlift verify` for every"
                        + " difference and repair them (or start the table's migration over) before "
                        + (reverse ? "rolling back" : "cutting over"));
            }
        }
        pending = keysOf(still);
        int suspectCount = suspects.values().stream().mapToInt(Set::size).sum();
        return rows + " rows of " + full.tables().size() + " tables compared row by row with writes flowing, then " + suspectCount
                + " rows found different or changed meanwhile compared again by key: " + still.size() + " changed once more"
                + (journalComplete ? "" : "; other appliers share the stream, so every table is compared again inside the freeze");
    }

    /** Inside the freeze, after the drain: what is still in doubt. Throws if any row differs. */
    String insideFreeze() throws InterruptedException {
        ChangeJournal.Generation since = journal.rotate();
        requireBounded(since, "the content check");
        merge(pending, projected(since));
        whole.addAll(since.truncated());
        Set<TableId> byVerify = new HashSet<>();
        if (!journalComplete) {
            plan.tables().forEach(t -> byVerify.add(t.id()));
        } else {
            // a table truncated meanwhile: every key it has on either side, on the connections already open
            for (TableId t : whole) {
                pending.computeIfAbsent(t, x -> new HashSet<>()).addAll(keys.allKeys(t));
            }
        }
        pending.keySet().removeAll(byVerify);
        List<KeyCheck.Difference> differ = keys.differences(pending, 10);
        List<String> problems = differ.stream().map(KeyCheck.Difference::toString).collect(Collectors.toList());
        if (!byVerify.isEmpty()) {
            VerifyReport r = Verifier.ofTables(plan, byVerify, new VerifyOptions(4, VerifyOptions.DEFAULT_CHUNK_ROWS, 5)).run();
            problems.addAll(r.shapes()); // such a table's rows were not compared
            for (VerifyReport.TableReport t : r.tables()) {
                if (!t.equal()) {
                    problems.add(t.table() + ": " + (t.keys().isEmpty() ? "rows differ" : t.keys().stream().limit(5)
                            .map(k -> k.kind().label() + " " + k.key()).collect(Collectors.joining(", "))));
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new TargetException(reverse
                    ? "the source's content differs from the fenced cluster after the reverse stream drained: " + String.join("; ", problems)
                    + " — nothing was switched back; the cluster is still the database; run `shardlift verify` for every difference"
                    : "the cluster's content differs from the fenced source: " + String.join("; ", problems)
                    + " — nothing was cut over; run `shardlift verify` for every difference");
        }
        int checked = pending.values().stream().mapToInt(Set::size).sum();
        return checked + " rows changed since the content check compared by key"
                + (whole.isEmpty() || !journalComplete ? "" : " (every key of " + whole.size() + " table(s) truncated meanwhile)")
                + (byVerify.isEmpty() ? "" : ", " + byVerify.size() + " table(s) compared whole (other appliers share the stream)")
                + (reverse ? ": the source holds the cluster's content" : ": the cluster holds the source's content");
    }

    private void requireBounded(ChangeJournal.Generation g, String during) {
        if (g.overflowed()) {
            throw new Refusal("content", "more than " + MAX_KEYS + " rows changed during " + during + "; comparing them"
                    + " inside the freeze would make it long — " + (reverse ? "nothing was switched back: roll back"
                    : "nothing was cut over: cut over") + " at a quieter moment");
        }
    }

    /** A generation's keys as the source's primary keys (see {@link #keyProjection}). */
    private Map<TableId, Set<List<String>>> projected(ChangeJournal.Generation g) {
        if (keyProjection.isEmpty()) {
            return g.keys();
        }
        Map<TableId, Set<List<String>>> out = new LinkedHashMap<>();
        g.keys().forEach((t, keys) -> {
            int[] at = keyProjection.get(t);
            if (at == null) {
                out.put(t, keys);
                return;
            }
            Set<List<String>> mapped = new HashSet<>();
            for (List<String> k : keys) {
                List<String> m = new java.util.ArrayList<>(at.length);
                for (int i : at) {
                    m.add(k.get(i));
                }
                mapped.add(m);
            }
            out.put(t, mapped);
        });
        return out;
    }

    private static Map<TableId, Set<List<String>>> keysOf(List<KeyCheck.Difference> differences) {
        Map<TableId, Set<List<String>>> out = new LinkedHashMap<>();
        differences.forEach(d -> out.computeIfAbsent(d.table(), x -> new HashSet<>()).add(d.key()));
        return out;
    }

    private static void merge(Map<TableId, Set<List<String>>> into, Map<TableId, Set<List<String>>> from) {
        from.forEach((t, k) -> into.computeIfAbsent(t, x -> new HashSet<>()).addAll(k));
    }

    @Override
    public void close() {
        journal.close();
        if (keys != null) {
            keys.close();
        }
    }
}
