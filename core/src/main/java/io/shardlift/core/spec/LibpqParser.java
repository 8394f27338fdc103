package io.shardlift.core.spec;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a libpq connection string (keyword/value form or {@code postgres://} URI) into its keywords,
 * following libpq's own grammar. Error messages never contain a value, so they cannot leak a password.
 */
final class LibpqParser {

    /** The connection keywords libpq (PostgreSQL 17) knows. */
    static final Set<String> KEYWORDS = Set.of(
            "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "require_auth",
            "channel_binding", "connect_timeout", "client_encoding", "options", "application_name",
            "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
            "keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "sslmode", "sslnegotiation",
            "requiressl", "sslcompression", "sslcert", "sslkey", "sslpassword", "sslcertmode", "sslrootcert",
            "sslcrl", "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version",
            "ssl_max_protocol_version", "krbsrvname", "gsslib", "gssdelegation", "service",
            "target_session_attrs", "load_balance_hosts");

    private static final Pattern URI_PREFIX = Pattern.compile("(?i)^postgres(?:ql)?://");

    private LibpqParser() {
    }

    static boolean isUri(String text) {
        return URI_PREFIX.matcher(text.strip()).find();
    }

    /** Keyword to value, in the order written; a keyword given twice keeps its last value (as libpq does). */
    static Map<String, String> parse(String text) {
        String s = text.strip();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("the connection string is empty");
        }
        Map<String, String> out = isUri(s) ? parseUri(s) : parseKeywordValue(s);
        for (String key : out.keySet()) {
            if (!KEYWORDS.contains(key)) {
                String hint = Suggest.closest(key, KEYWORDS).map(k -> " (did you mean " + k + "?)").orElse("");
                throw new IllegalArgumentException("unknown connection option \"" + key + "\"" + hint);
            }
        }
        return out;
    }

    private static Map<String, String> parseKeywordValue(String s) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = 0;
        int n = s.length();
        while (true) {
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i >= n) {
                return out;
            }
            int start = i;
            while (i < n && s.charAt(i) != '=' && !Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            String key = s.substring(start, i);
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i >= n || s.charAt(i) != '=') {
                throw new IllegalArgumentException(out.isEmpty() && i >= n
                        ? "expected keyword=value pairs (host=... dbname=...) or a postgres:// URI"
                        : "missing \"=\" after \"" + key + "\"");
            }
            if (key.isEmpty()) {
                throw new IllegalArgumentException("\"=\" without a keyword before it");
            }
            i++; // '='
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            StringBuilder value = new StringBuilder();
            if (i < n && s.charAt(i) == '\'') {
                i++;
                boolean closed = false;
                while (i < n) {
                    char c = s.charAt(i++);
                    if (c == '\\' && i < n) {
                        value.append(s.charAt(i++));
                    } else if (c == '\'') {
                        closed = true;
                        break;
                    } else {
                        value.append(c);
                    }
                }
                if (!closed) {
                    throw new IllegalArgumentException("unterminated quoted value of \"" + key + "\"");
                }
            } else {
                while (i < n && !Character.isWhitespace(s.charAt(i))) {
                    char c = s.charAt(i++);
                    if (c == '\\' && i < n) {
                        value.append(s.charAt(i++));
                    } else {
                        value.append(c);
                    }
                }
            }
            out.remove(key);
            out.put(key, value.toString());
        }
    }

    private static Map<String, String> parseUri(String s) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = URI_PREFIX.matcher(s);
        m.find();
        String rest = s.substring(m.end());
        int authorityEnd = indexOfAny(rest, "/?");
        String authority = authorityEnd < 0 ? rest : rest.substring(0, authorityEnd);
        String tail = authorityEnd < 0 ? "" : rest.substring(authorityEnd);

        int at = authority.lastIndexOf('@');
        String hostPart = authority;
        if (at >= 0) {
            String userInfo = authority.substring(0, at);
            hostPart = authority.substring(at + 1);
            int colon = userInfo.indexOf(':');
            String user = colon < 0 ? userInfo : userInfo.substring(0, colon);
            if (!user.isEmpty()) {
                out.put("user", decode(user, "user name"));
            }
            if (colon >= 0) {
                out.put("password", decode(userInfo.substring(colon + 1), "password"));
            }
        }
        if (hostPart.contains(",")) {
            throw new IllegalArgumentException("more than one host in the URI; shardlift needs one server per connection string");
        }
        String host;
        String port = null;
        if (hostPart.startsWith("[")) {
            int close = hostPart.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("IPv6 address in the URI lacks its closing \"]\"");
            }
            host = decode(hostPart.substring(1, close), "host");
            String after = hostPart.substring(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(":")) {
                    throw new IllegalArgumentException("unexpected text after the IPv6 address in the URI; write [addr]:port");
                }
                port = after.substring(1);
            }
        } else {
            int colon = hostPart.lastIndexOf(':');
            host = colon < 0 ? hostPart : hostPart.substring(0, colon);
            if (colon >= 0) {
                port = hostPart.substring(colon + 1);
            }
            host = decode(host, "host");
        }
        if (!host.isEmpty()) {
            out.put("host", host);
        }
        if (port != null && !port.isEmpty()) {
            out.put("port", decode(port, "port"));
        }

        String query = null;
        if (tail.startsWith("/")) {
            int q = tail.indexOf('?');
            String db = q < 0 ? tail.substring(1) : tail.substring(1, q);
            if (!db.isEmpty()) {
                out.put("dbname", decode(db, "database name"));
            }
            query = q < 0 ? null : tail.substring(q + 1);
        } else if (tail.startsWith("?")) {
            query = tail.substring(1);
        }
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&", -1)) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("URI query parameter \"" + safeName(pair) + "\" lacks \"=value\"");
                }
                String key = decode(pair.substring(0, eq), "query parameter name");
                String value = decode(pair.substring(eq + 1), "value of query parameter " + safeName(key));
                if (key.equals("ssl")) {
                    // libpq's URI compatibility alias, as JDBC users write it
                    if (!value.equals("true")) {
                        throw new IllegalArgumentException("URI query parameter ssl accepts only \"true\"; use sslmode=...");
                    }
                    key = "sslmode";
                    value = "require";
                }
                out.remove(key);
                out.put(key, value);
            }
        }
        return out;
    }

    private static String safeName(String key) {
        return KEYWORDS.contains(key) || key.length() <= 32 && key.matches("[A-Za-z0-9_]*") ? key : "…";
    }

    private static int indexOfAny(String s, String chars) {
        for (int i = 0; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    /** Percent-decoding as libpq does it: {@code %XX} only, {@code +} stays a plus. */
    static String decode(String s, String what) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); ) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("invalid percent-encoding in the " + what + " of the URI");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("invalid percent-encoding in the " + what + " of the URI");
                }
                int b = hi * 16 + lo;
                if (b == 0) {
                    throw new IllegalArgumentException("forbidden %00 in the " + what + " of the URI");
                }
                bytes.write(b);
                i += 3;
            } else {
                byte[] enc = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < s.length()) {
                    enc = s.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                bytes.writeBytes(enc);
                i++;
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** Quotes a value for keyword/value form when it needs it. */
    static String quote(String value) {
        boolean plain = !value.isEmpty();
        for (int i = 0; i < value.length() && plain; i++) {
            char c = value.charAt(i);
            plain = !Character.isWhitespace(c) && c != '\'' && c != '\\';
        }
        if (plain) {
            return value;
        }
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** Key names that hold secrets, misspellings included ("pasword", "passwd", "pwd"). */
    private static final Pattern SECRET_KEY = Pattern.compile("(?i)pas+w|pwd|pswd|secret");

    /** Keywords whose values are secrets. */
    static boolean isSecretKeyword(String key) {
        return SECRET_KEY.matcher(key).find();
    }

    private static final Pattern URI_USERINFO_PASSWORD = Pattern.compile("(?i)(^\\s*postgres(?:ql)?://[^:/?@]*:)([^/?]*)(@)");
    private static final Pattern URI_SECRET_PARAM = Pattern.compile("(?i)([?&][^=&]*(?:pas+w|pwd|pswd|secret)[^=&]*=)([^&]*)");
    private static final Pattern KV_SECRET = Pattern.compile(
            "(?i)([^\\s=']*(?:pas+w|pwd|pswd|secret)[^\\s=']*\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'?|(?:[^\\s\\\\]|\\\\.?)*)");

    /**
     * Best-effort masking of a connection string that may not even parse: the value of every keyword that
     * looks like a password, and the password of a URI's user info, become {@code ******}.
     */
    static String maskRaw(String text) {
        if (text == null) {
            return null;
        }
        if (isUri(text)) {
            String s = URI_USERINFO_PASSWORD.matcher(text).replaceFirst("$1******$3");
            return URI_SECRET_PARAM.matcher(s).replaceAll("$1******");
        }
        return KV_SECRET.matcher(text).replaceAll("$1******");
    }
}
