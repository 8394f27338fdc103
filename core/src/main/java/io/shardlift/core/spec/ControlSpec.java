package io.shardlift.core.spec;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code control:} section: where the HTTP control plane listens, whether it serves TLS, and which environment
 * variable holds the cutover token. The token itself is read at run time and is never part of the spec.
 *
 * @param host           listen address (default 127.0.0.1), IPv6 without brackets
 * @param port           listen port (default 8080)
 * @param tokenEnv       name of the environment variable with the cutover token (default SHARDLIFT_TOKEN)
 * @param tls            {@code control.tls}: serve HTTPS with this certificate and key; empty: plain HTTP
 * @param allowPlainHttp {@code control.allow_plain_http}: the operator's opt-in to plain HTTP on a non-loopback address
 */
public record ControlSpec(String host, int port, String tokenEnv, Optional<Tls> tls, boolean allowPlainHttp) {

    /**
     * {@code control.tls}: PEM files.
     *
     * @param cert the server's certificate (chain), PEM
     * @param key  its private key, PEM (PKCS#8 or PKCS#1)
     * @param ca   what {@code status} and {@code cutover} trust (PEM); empty: the certificate itself
     */
    public record Tls(Path cert, Path key, Optional<Path> ca) {
        public Tls {
            Objects.requireNonNull(cert, "cert");
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(ca, "ca");
        }

        /** The PEM file clients trust. */
        public Path trusted() {
            return ca.orElse(cert);
        }
    }

    public ControlSpec {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(tokenEnv, "tokenEnv");
        Objects.requireNonNull(tls, "tls");
    }

    /** Plain HTTP, as on loopback. */
    public ControlSpec(String host, int port, String tokenEnv) {
        this(host, port, tokenEnv, Optional.empty(), false);
    }

    public static ControlSpec defaults() {
        return new ControlSpec("127.0.0.1", 8080, "SHARDLIFT_TOKEN");
    }

    /** {@code host:port}, IPv6 in brackets, as written in {@code control.listen}. */
    public String listen() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** {@code https} with TLS, else {@code http}. */
    public String scheme() {
        return tls.isPresent() ? "https" : "http";
    }

    /** Whether {@code host} is a loopback address (or {@code localhost}), reachable from this host only. */
    public static boolean loopback(String host) {
        String h = host.toLowerCase(java.util.Locale.ROOT);
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
    }
}
