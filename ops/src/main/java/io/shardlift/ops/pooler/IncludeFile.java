package io.shardlift.ops.pooler;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The include file that holds the switched aliases' {@code [databases]} lines. Only the lines of the listed
 * aliases change, and on them only {@code host}, {@code port} and {@code dbname}: pool_size, auth_user and the
 * rest stay as the operator wrote them. Every write is atomic (temporary file, fsync, rename, fsync of the
 * directory) so PgBouncer's RELOAD never reads half a file, and the version replaced is kept next to it as
 * {@code <file>.shardlift-prev} for the way back.
 */
final class IncludeFile {

    static final String PREVIOUS_SUFFIX = ".shardlift-prev";
    private static final String TEMP_SUFFIX = ".shardlift-tmp";

    /** {@code alias = value}; the alias may be double-quoted. Comments (; or #) and section headers do not match. */
    private static final Pattern ENTRY = Pattern.compile("^(\\s*)(\"(?:[^\"]|\"\")+\"|[^\\s=;#\\[\"%][^\\s=]*)(\\s*=\\s*)(.*?)\\s*$");

    /** Where a switched alias points: the cluster node's host, port and database. */
    record Target(String host, int port, String dbname) {
    }

    /** One {@code key=value} of a connection string, with its text as written (kept verbatim unless replaced). */
    private record Param(String key, String value, String raw) {
    }

    private IncludeFile() {
    }

    /** The previous version's path: {@code <file>.shardlift-prev}. */
    static Path previous(Path file) {
        return file.resolveSibling(file.getFileName() + PREVIOUS_SUFFIX);
    }

    /** Alias → its parameters (key → unquoted value), for every alias line of {@code lines}. */
    static Map<String, Map<String, String>> aliases(List<String> lines) {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = ENTRY.matcher(line);
            if (m.matches()) {
                Map<String, String> params = new LinkedHashMap<>();
                parse(m.group(4)).forEach(p -> params.put(p.key(), p.value()));
                out.put(unquoteAlias(m.group(2)), params);
            }
        }
        return out;
    }

    /**
     * {@code lines} with every listed alias pointed at {@code target}; other lines unchanged.
     *
     * @throws IllegalStateException when a listed alias has no line here, naming it
     */
    static List<String> pointAt(List<String> lines, Collection<String> aliases, Target target, Path file) {
        List<String> out = new ArrayList<>(lines.size());
        Set<String> seen = new java.util.HashSet<>();
        for (String line : lines) {
            Matcher m = ENTRY.matcher(line);
            String alias = m.matches() ? unquoteAlias(m.group(2)) : null;
            if (alias == null || !aliases.contains(alias)) {
                out.add(line);
                continue;
            }
            seen.add(alias);
            List<Param> params = new ArrayList<>(parse(m.group(4)));
            set(params, "dbname", target.dbname());
            set(params, "port", String.valueOf(target.port()));
            set(params, "host", target.host());
            StringBuilder sb = new StringBuilder(m.group(1)).append(m.group(2)).append(m.group(3));
            for (int i = 0; i < params.size(); i++) {
                sb.append(i == 0 ? "" : " ").append(params.get(i).raw());
            }
            out.add(sb.toString());
        }
        List<String> missing = aliases.stream().filter(a -> !seen.contains(a)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalStateException(file + " has no line for " + (missing.size() == 1 ? "alias " : "aliases ")
                    + String.join(", ", missing) + ": move each switched alias's [databases] line from pgbouncer.ini into this"
                    + " file, which pgbouncer.ini pulls in with %include");
        }
        return out;
    }

    /**
     * Points the listed aliases of {@code file} at {@code target}, keeping the version replaced as
     * {@link #previous(Path)}. Nothing is written when the file already says so (a repeated switch keeps the
     * source's version as the previous one).
     *
     * @return whether the file changed
     */
    static boolean switchTo(Path file, Collection<String> aliases, Target target) throws IOException {
        String current = Files.readString(file, StandardCharsets.UTF_8);
        List<String> lines = current.lines().toList();
        List<String> next = pointAt(lines, aliases, target, file);
        if (next.equals(lines)) {
            return false;
        }
        writeAtomically(previous(file), current, file);
        writeAtomically(file, String.join("\n", next) + "\n", file);
        return true;
    }

    /**
     * Puts the previous version back in place (the way back after a switch).
     *
     * @return whether the file changed
     * @throws IllegalStateException when there is no previous version
     */
    static boolean restorePrevious(Path file) throws IOException {
        Path prev = previous(file);
        if (!Files.exists(prev)) {
            throw new IllegalStateException("there is no previous version of " + file + " (" + prev + ") to switch back to");
        }
        String before = Files.readString(prev, StandardCharsets.UTF_8);
        if (Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).equals(before)) {
            return false;
        }
        writeAtomically(file, before, file);
        return true;
    }

    /**
     * Replaces {@code file} with {@code content} in one rename, owner and mode copied from {@code like} so
     * PgBouncer (another OS user) can still read it.
     */
    static void writeAtomically(Path file, String content, Path like) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + file.getFileName() + TEMP_SUFFIX);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        copyOwnership(like, tmp);
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(tmp);
            throw new IOException("cannot replace " + file + " atomically (" + e.getMessage() + ")", e);
        }
        // the rename is durable only once the directory is
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // some file systems cannot open a directory for fsync; the rename itself is still atomic
        }
    }

    private static void copyOwnership(Path from, Path to) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(to, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (view == null || !Files.exists(from)) {
            return;
        }
        PosixFileAttributes a = Files.readAttributes(from, PosixFileAttributes.class);
        view.setPermissions(a.permissions());
        try {
            if (!Files.getOwner(to).equals(a.owner())) {
                view.setOwner(a.owner());
            }
            view.setGroup(a.group());
        } catch (IOException e) {
            // only root may give a file away; the mode copied above keeps it readable where it was
        }
    }

    private static void set(List<Param> params, String key, String value) {
        Param p = new Param(key, value, key + "=" + quote(value));
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i).key().equals(key)) {
                params.set(i, p);
                return;
            }
        }
        params.add(0, p);
    }

    /** PgBouncer's connection string syntax: key=value, a value in single quotes with '' for a quote. */
    private static List<Param> parse(String text) {
        List<Param> out = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= n) {
                break;
            }
            int start = i;
            while (i < n && text.charAt(i) != '=' && !Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            String key = text.substring(start, i);
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= n || text.charAt(i) != '=') {
                out.add(new Param(key, "", text.substring(start, i).strip()));
                continue;
            }
            i++;
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            StringBuilder value = new StringBuilder();
            if (i < n && text.charAt(i) == '\'') {
                i++;
                while (i < n) {
                    char c = text.charAt(i);
                    if (c == '\'' && i + 1 < n && text.charAt(i + 1) == '\'') {
                        value.append('\'');
                        i += 2;
                    } else if (c == '\'') {
                        i++;
                        break;
                    } else {
                        value.append(c);
                        i++;
                    }
                }
            } else {
                while (i < n && !Character.isWhitespace(text.charAt(i))) {
                    value.append(text.charAt(i++));
                }
            }
            out.add(new Param(key, value.toString(), text.substring(start, i)));
        }
        return out;
    }

    private static String quote(String value) {
        boolean plain = !value.isEmpty() && value.chars().noneMatch(c -> Character.isWhitespace(c) || c == '\'' || c == '=');
        return plain ? value : "'" + value.replace("'", "''") + "'";
    }

    private static String unquoteAlias(String alias) {
        return alias.startsWith("\"") ? alias.substring(1, alias.length() - 1).replace("\"\"", "\"") : alias;
    }
}
