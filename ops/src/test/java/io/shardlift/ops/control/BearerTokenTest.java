package io.shardlift.ops.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BearerTokenTest {

    static final String TOKEN = "s3cret-token-0123456789abcdef";

    static BearerToken token() {
        return BearerToken.fromEnvironment("CUT_TOKEN", Map.of("CUT_TOKEN", TOKEN)::get);
    }

    static Stream<Arguments> headers() {
        return Stream.of(
                Arguments.of(null, BearerToken.Check.MISSING),
                Arguments.of("", BearerToken.Check.MISSING),
                Arguments.of("Bearer", BearerToken.Check.MISSING),
                Arguments.of("Bearer ", BearerToken.Check.MISSING),
                Arguments.of("Bearer    ", BearerToken.Check.MISSING),
                Arguments.of("Basic " + TOKEN, BearerToken.Check.MISSING),
                Arguments.of(TOKEN, BearerToken.Check.MISSING),
                Arguments.of("Bearer" + TOKEN, BearerToken.Check.MISSING),
                Arguments.of("Bearer " + TOKEN, BearerToken.Check.ACCEPTED),
                Arguments.of("bearer " + TOKEN, BearerToken.Check.ACCEPTED),
                Arguments.of("BEARER " + TOKEN, BearerToken.Check.ACCEPTED),
                Arguments.of("  Bearer   " + TOKEN + "  ", BearerToken.Check.ACCEPTED),
                Arguments.of("Bearer " + TOKEN + "x", BearerToken.Check.WRONG),
                Arguments.of("Bearer " + TOKEN.substring(1), BearerToken.Check.WRONG),
                Arguments.of("Bearer " + TOKEN.toUpperCase(), BearerToken.Check.WRONG),
                Arguments.of("Bearer x", BearerToken.Check.WRONG),
                Arguments.of("Bearer " + TOKEN + " " + TOKEN, BearerToken.Check.WRONG));
    }

    @ParameterizedTest(name = "[{index}] {0} -> {1}")
    @MethodSource("headers")
    void checksTheAuthorizationHeader(String header, BearerToken.Check expected) {
        assertThat(token().check(header)).isEqualTo(expected);
    }

    @Test
    void unsetOrEmptyVariableDisablesAndNamesTheVariable() {
        BearerToken unset = BearerToken.fromEnvironment("CUT_TOKEN", Map.<String, String>of()::get);
        assertThat(unset.available()).isFalse();
        assertThat(unset.unavailableReason()).contains("CUT_TOKEN", "control.token_env", "not set", "set CUT_TOKEN");
        assertThatThrownBy(() -> unset.check("Bearer anything")).isInstanceOf(IllegalStateException.class);

        BearerToken empty = BearerToken.fromEnvironment("CUT_TOKEN", Map.of("CUT_TOKEN", "")::get);
        assertThat(empty.available()).isFalse();
        assertThat(empty.unavailableReason()).contains("CUT_TOKEN", "empty");
    }

    @Test
    void shortTokensAreFlaggedWeak() {
        assertThat(token().weak()).isFalse();
        assertThat(BearerToken.fromEnvironment("T", Map.of("T", "short")::get).weak()).isTrue();
    }

    @Test
    void keepsOnlyADigestOfTheToken() throws IllegalAccessException {
        BearerToken t = token();
        assertThat(t.toString()).doesNotContain(TOKEN).contains("CUT_TOKEN");
        for (Field f : BearerToken.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            f.setAccessible(true);
            Object v = f.get(t);
            assertThat(String.valueOf(v)).as(f.getName()).doesNotContain(TOKEN);
            if (v instanceof byte[] b) {
                assertThat(new String(b, java.nio.charset.StandardCharsets.UTF_8)).as(f.getName()).doesNotContain(TOKEN);
            }
        }
    }
}
