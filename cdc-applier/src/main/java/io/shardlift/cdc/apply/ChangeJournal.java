package io.shardlift.cdc.apply;

import io.shardlift.cdc.event.Row;
import io.shardlift.core.TableId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The keys of the changes this applier routed while the journal is open, per table, in the text form the applier
 * binds them in: what a cutover must compare row by row inside its freeze, since the rest was compared before it
 * (and did not change). Bounded: past {@code maxKeys} it only says it overflowed. Closed, it costs one volatile read
 * per change.
 */
public final class ChangeJournal {

    /** What the journal holds since it was opened or last rotated. */
    public record Generation(Map<TableId, Set<List<String>>> keys, Set<TableId> truncated, int size, boolean overflowed) {
    }

    private volatile boolean open;
    private int maxKeys;
    private Map<TableId, Set<List<String>>> keys = new HashMap<>();
    private Set<TableId> truncated = new HashSet<>();
    private int size;
    private boolean overflowed;

    ChangeJournal() {
    }

    /** Starts recording, empty, holding at most {@code maxKeys} keys. */
    public synchronized void open(int maxKeys) {
        this.maxKeys = maxKeys;
        clear();
        open = true;
    }

    /** What was recorded so far; recording goes on into an empty journal. */
    public synchronized Generation rotate() {
        Generation g = new Generation(keys, truncated, size, overflowed);
        clear();
        return g;
    }

    public synchronized void close() {
        open = false;
        clear();
    }

    void record(TableApply t, Row key) {
        if (!open) {
            return;
        }
        List<String> text = new ArrayList<>(t.codec.keySize());
        for (int k = 0; k < t.codec.keySize(); k++) {
            // a row read anew where the changes come from (a table keyed wider than its target) holds PostgreSQL's text
            text.add(key.get(k) instanceof ToastFiller.SourceText st ? st.text() : t.codec.keyText(key, k));
        }
        synchronized (this) {
            if (!open || overflowed) {
                return;
            }
            if (keys.computeIfAbsent(t.id(), x -> new HashSet<>()).add(List.copyOf(text)) && ++size > maxKeys) {
                overflowed = true;
                keys = new HashMap<>(); // what it held no longer helps: let it go
            }
        }
    }

    synchronized void recordTruncate(TableId table) {
        if (open) {
            truncated.add(table);
        }
    }

    private void clear() {
        keys = new HashMap<>();
        truncated = new HashSet<>();
        size = 0;
        overflowed = false;
    }
}
