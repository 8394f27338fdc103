package io.shardlift.core.spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The password file, read the way libpq reads it: lines of {@code hostname:port:database:username:password},
 * {@code *} matches anything, {@code \:} and {@code \\} escape, the first matching line wins, and a file that
 * group or others may read is ignored with a warning.
 */
final class Pgpass {

    private static final Logger LOG = LoggerFactory.getLogger(Pgpass.class);

    private static final Set<PosixFilePermission> TOO_OPEN = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private Pgpass() {
    }

    /** libpq's choice of file: {@code PGPASSFILE}, else {@code ~/.pgpass}. */
    static Path defaultFile(Function<String, String> env) {
        String explicit = env.apply("PGPASSFILE");
        if (explicit != null && !explicit.isEmpty()) {
            return Path.of(explicit);
        }
        String home = env.apply("HOME");
        return Path.of(home != null && !home.isEmpty() ? home : System.getProperty("user.home"), ".pgpass");
    }

    static Optional<String> lookup(Path file, String host, int port, String dbname, String user) {
        if (file == null || !Files.isRegularFile(file)) {
            return Optional.empty();
        }
        PosixFileAttributeView posix = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        try {
            if (posix != null && posix.readAttributes().permissions().stream().anyMatch(TOO_OPEN::contains)) {
                LOG.warn("password file {} has group or world access and is ignored; permissions should be u=rw (0600) or less",
                        file);
                return Optional.empty();
            }
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                Optional<String> password = match(line, host, String.valueOf(port), dbname, user);
                if (password.isPresent()) {
                    return password;
                }
            }
        } catch (IOException | RuntimeException e) {
            // As libpq: an unreadable password file is the same as none.
            LOG.warn("password file {} cannot be read ({}); continuing without it", file, e.getClass().getSimpleName());
        }
        return Optional.empty();
    }

    /** The password of this line if its first four fields match, else empty. */
    static Optional<String> match(String line, String host, String port, String dbname, String user) {
        if (line.isBlank() || line.startsWith("#")) {
            return Optional.empty();
        }
        List<Field> fields = split(line);
        if (fields.size() < 5) {
            return Optional.empty();
        }
        String[] wanted = {host, port, dbname, user};
        for (int i = 0; i < 4; i++) {
            Field f = fields.get(i);
            if (!(f.wildcard() || f.text().equals(wanted[i]))) {
                return Optional.empty();
            }
        }
        // As libpq: the password ends at the next unescaped ':' (write \: for a colon in it).
        return Optional.of(fields.get(4).text());
    }

    private record Field(String text, boolean wildcard) {
    }

    private static List<Field> split(String line) {
        List<Field> fields = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean anyEscape = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                current.append(line.charAt(++i));
                anyEscape = true;
            } else if (c == ':') {
                fields.add(new Field(current.toString(), !anyEscape && current.toString().equals("*")));
                current.setLength(0);
                anyEscape = false;
            } else {
                current.append(c);
            }
        }
        fields.add(new Field(current.toString(), !anyEscape && current.toString().equals("*")));
        return fields;
    }
}
