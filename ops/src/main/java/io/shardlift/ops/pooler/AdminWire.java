package io.shardlift.ops.pooler;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The PostgreSQL wire protocol, as much of it as PgBouncer's admin console speaks: startup, authentication
 * (trust, password, md5, SCRAM-SHA-256) and simple queries. pgjdbc cannot be used: after login it always sends
 * {@code SET extra_float_digits} to a server that reports a version below 12, and the console (version
 * "1.18.0/bouncer") refuses that SET, so the connection fails ("SET failed"). No TLS.
 */
final class AdminWire implements AutoCloseable {

    /** A server error (ErrorResponse): the console's message, e.g. "admin access needed". */
    static final class ServerError extends IOException {
        private static final long serialVersionUID = 1L;

        ServerError(String message) {
            super(message);
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    private AdminWire(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    }

    static AdminWire connect(String host, int port, String database, String user, String password, int connectTimeoutMs,
                             int readTimeoutMs) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(host, port), connectTimeoutMs);
            s.setSoTimeout(readTimeoutMs);
            s.setTcpNoDelay(true);
            AdminWire w = new AdminWire(s);
            w.startup(database, user, password);
            return w;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** Read timeout for what follows; 0 waits for ever (a PAUSE, which is abandoned by closing the socket). */
    void readTimeout(int ms) throws IOException {
        socket.setSoTimeout(ms);
    }

    private void startup(String database, String user, String password) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream b = new DataOutputStream(body);
        b.writeInt(196608); // protocol 3.0
        for (String s : new String[] {"user", user, "database", database, "application_name", "shardlift"}) {
            cstring(b, s);
        }
        b.writeByte(0);
        out.writeInt(body.size() + 4);
        out.write(body.toByteArray());
        out.flush();
        Scram scram = null;
        while (true) {
            int type = in.readUnsignedByte();
            byte[] msg = new byte[in.readInt() - 4];
            in.readFully(msg);
            switch (type) {
                case 'R' -> {
                    int code = java.nio.ByteBuffer.wrap(msg).getInt();
                    switch (code) {
                        case 0 -> { }
                        case 3 -> send('p', cstringBytes(requirePassword(password)));
                        case 5 -> {
                            byte[] salt = java.util.Arrays.copyOfRange(msg, 4, 8);
                            String inner = md5Hex((requirePassword(password) + user).getBytes(StandardCharsets.UTF_8));
                            byte[] innerBytes = inner.getBytes(StandardCharsets.US_ASCII);
                            byte[] salted = java.util.Arrays.copyOf(innerBytes, innerBytes.length + 4);
                            System.arraycopy(salt, 0, salted, innerBytes.length, 4);
                            send('p', cstringBytes("md5" + md5Hex(salted)));
                        }
                        case 10 -> {
                            String mechanisms = new String(msg, 4, msg.length - 4, StandardCharsets.UTF_8);
                            if (!mechanisms.contains("SCRAM-SHA-256")) {
                                throw new IOException("the console offers SASL " + mechanisms.replace('\0', ' ').strip()
                                        + ", shardlift speaks SCRAM-SHA-256");
                            }
                            scram = new Scram(requirePassword(password));
                            byte[] first = scram.clientFirst().getBytes(StandardCharsets.UTF_8);
                            ByteArrayOutputStream p = new ByteArrayOutputStream();
                            DataOutputStream d = new DataOutputStream(p);
                            cstring(d, "SCRAM-SHA-256");
                            d.writeInt(first.length);
                            d.write(first);
                            send('p', p.toByteArray());
                        }
                        case 11 -> send('p', scram.clientFinal(new String(msg, 4, msg.length - 4, StandardCharsets.UTF_8))
                                .getBytes(StandardCharsets.UTF_8));
                        case 12 -> scram.verifyServer(new String(msg, 4, msg.length - 4, StandardCharsets.UTF_8));
                        default -> throw new IOException("the console asks for authentication method " + code
                                + ", which shardlift does not speak (trust, password, md5 and scram-sha-256 work)");
                    }
                }
                case 'E' -> throw new ServerError(errorMessage(msg));
                case 'Z' -> {
                    return;
                }
                default -> {
                    // ParameterStatus, BackendKeyData, notices: nothing shardlift uses
                }
            }
        }
    }

    private static String requirePassword(String password) throws IOException {
        if (password == null) {
            throw new IOException("the console asks for a password and admin: has none (write password=, or use "
                    + "PGPASSWORD or a password file)");
        }
        return password;
    }

    /** Runs one simple query; the rows of its last result set, column name → text (null for NULL). */
    List<Map<String, String>> query(String sql) throws IOException {
        send('Q', cstringBytes(sql));
        List<String> columns = new ArrayList<>();
        List<Map<String, String>> rows = new ArrayList<>();
        ServerError error = null;
        while (true) {
            int type = in.readUnsignedByte();
            byte[] msg = new byte[in.readInt() - 4];
            in.readFully(msg);
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(msg);
            switch (type) {
                case 'T' -> {
                    columns.clear();
                    rows.clear();
                    int n = buf.getShort();
                    for (int i = 0; i < n; i++) {
                        columns.add(readCString(buf));
                        buf.position(buf.position() + 18);
                    }
                }
                case 'D' -> {
                    int n = buf.getShort();
                    Map<String, String> row = new LinkedHashMap<>();
                    for (int i = 0; i < n; i++) {
                        int len = buf.getInt();
                        String v = null;
                        if (len >= 0) {
                            v = new String(msg, buf.position(), len, StandardCharsets.UTF_8);
                            buf.position(buf.position() + len);
                        }
                        row.put(i < columns.size() ? columns.get(i) : "column" + i, v);
                    }
                    rows.add(row);
                }
                case 'E' -> error = new ServerError(errorMessage(msg));
                case 'Z' -> {
                    if (error != null) {
                        throw error;
                    }
                    return rows;
                }
                default -> {
                    // CommandComplete, notices, EmptyQueryResponse
                }
            }
        }
    }

    private void send(char type, byte[] body) throws IOException {
        out.writeByte(type);
        out.writeInt(body.length + 4);
        out.write(body);
        out.flush();
    }

    private static String errorMessage(byte[] msg) {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(msg);
        String message = "error";
        while (buf.hasRemaining()) {
            byte field = buf.get();
            if (field == 0) {
                break;
            }
            String v = readCString(buf);
            if (field == 'M') {
                message = v;
            }
        }
        return message;
    }

    private static String readCString(java.nio.ByteBuffer buf) {
        int start = buf.position();
        while (buf.get() != 0) {
            // scan to the terminator
        }
        return new String(buf.array(), start, buf.position() - start - 1, StandardCharsets.UTF_8);
    }

    private static void cstring(DataOutputStream d, String s) throws IOException {
        d.write(s.getBytes(StandardCharsets.UTF_8));
        d.writeByte(0);
    }

    private static byte[] cstringBytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return java.util.Arrays.copyOf(b, b.length + 1);
    }

    private static String md5Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Closes the connection; a command in flight (PAUSE) is abandoned. */
    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }

    /** SCRAM-SHA-256 (RFC 7677) without channel binding, as libpq does over plain TCP. */
    private static final class Scram {
        private final String password;
        private final String nonce;
        private String clientFirstBare;
        private byte[] serverSignature;

        Scram(String password) {
            this.password = password;
            byte[] r = new byte[18];
            new SecureRandom().nextBytes(r);
            this.nonce = Base64.getEncoder().encodeToString(r);
        }

        String clientFirst() {
            clientFirstBare = "n=,r=" + nonce;
            return "n,," + clientFirstBare;
        }

        String clientFinal(String serverFirst) throws IOException {
            Map<String, String> f = attributes(serverFirst);
            String r = f.get("r");
            if (r == null || !r.startsWith(nonce) || f.get("s") == null || f.get("i") == null) {
                throw new IOException("the console's SCRAM challenge is malformed");
            }
            try {
                byte[] salted = hi(password.getBytes(StandardCharsets.UTF_8), Base64.getDecoder().decode(f.get("s")),
                        Integer.parseInt(f.get("i")));
                byte[] clientKey = hmac(salted, "Client Key");
                byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
                String withoutProof = "c=biws,r=" + r;
                String auth = clientFirstBare + "," + serverFirst + "," + withoutProof;
                byte[] signature = hmac(storedKey, auth);
                byte[] proof = new byte[clientKey.length];
                for (int i = 0; i < proof.length; i++) {
                    proof[i] = (byte) (clientKey[i] ^ signature[i]);
                }
                serverSignature = hmac(hmac(salted, "Server Key"), auth);
                return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
            } catch (GeneralSecurityException e) {
                throw new IOException("SCRAM: " + e.getMessage(), e);
            }
        }

        void verifyServer(String serverFinal) throws IOException {
            String v = attributes(serverFinal).get("v");
            if (v == null || !MessageDigest.isEqual(Base64.getDecoder().decode(v), serverSignature)) {
                throw new IOException("the console's SCRAM signature does not match: is this the PgBouncer you meant?");
            }
        }

        private static Map<String, String> attributes(String s) {
            Map<String, String> out = new LinkedHashMap<>();
            for (String part : s.split(",")) {
                int eq = part.indexOf('=');
                if (eq == 1) {
                    out.put(part.substring(0, 1), part.substring(2));
                }
            }
            return out;
        }

        private static byte[] hmac(byte[] key, String data) throws GeneralSecurityException {
            return hmac(key, data.getBytes(StandardCharsets.UTF_8));
        }

        private static byte[] hmac(byte[] key, byte[] data) throws GeneralSecurityException {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        }

        /** PBKDF2 with HMAC-SHA-256, one block: SCRAM's Hi(). */
        private static byte[] hi(byte[] password, byte[] salt, int iterations) throws GeneralSecurityException {
            byte[] first = java.util.Arrays.copyOf(salt, salt.length + 4);
            first[first.length - 1] = 1;
            byte[] u = hmac(password, first);
            byte[] result = u.clone();
            for (int i = 1; i < iterations; i++) {
                u = hmac(password, u);
                for (int k = 0; k < result.length; k++) {
                    result[k] ^= u[k];
                }
            }
            return result;
        }
    }
}
