package io.shardlift.ops.control;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The query of {@code POST /cutover}. Strict on purpose: a misspelt {@code ?dry_run=true} that were ignored
 * would run the real cutover, so an unknown parameter or a value other than true/false is refused. Values
 * are never echoed back, in case one holds something secret.
 */
record CutoverRequest(boolean dryRun) {

    static final String DRY_RUN = "dryRun";

    /**
     * @param query each parameter name with all its values
     * @throws IllegalArgumentException with the message for a 400 answer
     */
    static CutoverRequest parse(Map<String, List<String>> query) {
        TreeSet<String> unknown = new TreeSet<>(query.keySet());
        unknown.remove(DRY_RUN);
        if (!unknown.isEmpty()) {
            String first = unknown.first();
            boolean looksLikeDryRun = unknown.stream()
                    .anyMatch(n -> n.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "").equals("dryrun"));
            throw new IllegalArgumentException("unknown query parameter" + (unknown.size() > 1 ? "s " + String.join(", ", unknown)
                    : " " + first) + (looksLikeDryRun ? "; did you mean dryRun?" : "") + " (POST /cutover takes only "
                    + "dryRun=true or dryRun=false)");
        }
        List<String> values = query.get(DRY_RUN);
        if (values == null || values.isEmpty()) {
            return new CutoverRequest(false);
        }
        if (values.size() > 1) {
            throw new IllegalArgumentException("dryRun is given " + values.size() + " times; give it once, true or false");
        }
        String v = values.get(0).strip();
        // a bare ?dryRun asks for a dry run: reading it as false would cut over for real
        if (v.isEmpty() || v.equalsIgnoreCase("true")) {
            return new CutoverRequest(true);
        }
        if (v.equalsIgnoreCase("false")) {
            return new CutoverRequest(false);
        }
        throw new IllegalArgumentException("dryRun must be true or false");
    }
}
