package io.shardlift.cdc.event;

import io.shardlift.core.TableId;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/** Kafka topic names for table change streams: one place, used by the capture and the applier alike. */
public final class Topics {

    /** Kafka's limit on topic names. */
    static final int MAX_LENGTH = 249;

    private Topics() {
    }

    /**
     * {@code <prefix>.<schema>.<table>}. Kafka allows only {@code [a-zA-Z0-9._-]}; a name with other characters
     * (or too long) gets them replaced by {@code _} and a hash of the exact name appended, so two tables never
     * share a topic by accident.
     */
    public static String forTable(String prefix, TableId table) {
        String raw = prefix + "." + table.schema() + "." + table.name();
        StringBuilder sb = new StringBuilder(raw.length());
        boolean changed = false;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
            sb.append(ok ? c : '_');
            changed |= !ok;
        }
        if (!changed && sb.length() <= MAX_LENGTH) {
            return sb.toString();
        }
        CRC32 crc = new CRC32();
        crc.update((table.schema() + "\u0000" + table.name()).getBytes(StandardCharsets.UTF_8));
        String suffix = "-" + Long.toHexString(crc.getValue());
        if (sb.length() + suffix.length() > MAX_LENGTH) {
            sb.setLength(MAX_LENGTH - suffix.length());
        }
        return sb.append(suffix).toString();
    }
}
