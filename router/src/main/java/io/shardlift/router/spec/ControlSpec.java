package io.shardlift.router.spec;

import java.util.Objects;

/**
 * The {@code control:} section: where the HTTP control plane listens and which environment variable holds
 * the cutover token. The token itself is read at run time and is never part of the spec.
 *
 * @param host     listen address (default 127.0.0.1), IPv6 without brackets
 * @param port     listen port (default 8080)
 * @param tokenEnv name of the environment variable with the cutover token (default SHARDLIFT_TOKEN)
 */
public record ControlSpec(String host, int port, String tokenEnv) {

    public ControlSpec {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(tokenEnv, "tokenEnv");
    }

    public static ControlSpec defaults() {
        return new ControlSpec("127.0.0.1", 8080, "SHARDLIFT_TOKEN");
    }

    /** {@code host:port}, IPv6 in brackets, as written in {@code control.listen}. */
    public String listen() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
