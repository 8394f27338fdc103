package io.shardlift.ops.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class KeyOrderTest {

    @Test
    void numbersCompareByValueAndTextByCodePoint() {
        String[][] cases = {
            // type, x, y, expected sign
            {"int8", "9", "10", "-1"},
            {"int8", "-9223372036854775808", "9223372036854775807", "-1"},
            {"int4", "-5", "-50", "1"},
            {"numeric", "1.50", "1.5", "0"},
            {"numeric", "10.01", "9.99", "1"},
            {"numeric", "NaN", "10000000000", "1"},
            // infinities (numeric since PostgreSQL 14): -Infinity < numbers < Infinity < NaN; BigDecimal threw on them
            {"numeric", "Infinity", "99999999999999999999.5", "1"},
            {"numeric", "-Infinity", "-99999999999999999999.5", "-1"},
            {"numeric", "-Infinity", "Infinity", "-1"},
            {"numeric", "Infinity", "NaN", "-1"},
            {"numeric", "Infinity", "Infinity", "0"},
            {"text", "9", "10", "1"},
            {"text", "B", "a", "-1"},
            {"text", "é", "z", "1"},
            {"text", "\uD83D\uDE00", "\uFFFF", "1"},
            {"text", "ab", "abc", "-1"},
            {"uuid", "0a", "0b", "-1"},
        };
        for (String[] c : cases) {
            KeyOrder order = KeyOrder.of(List.of(c[0]));
            assertThat(Integer.signum(order.compare(new String[] {c[1]}, new String[] {c[2]})))
                    .as(String.join(" ", c)).isEqualTo(Integer.parseInt(c[3]));
        }
    }

    @Test
    void compositeKeysCompareColumnByColumn() {
        KeyOrder order = KeyOrder.of(List.of("bpchar", "int4"));
        assertThat(order.compare(new String[] {"0001", "20"}, new String[] {"0001", "3"})).isPositive();
        assertThat(order.compare(new String[] {"0001", "20"}, new String[] {"0002", "3"})).isNegative();
        assertThat(order.compare(new String[] {"0001", "3"}, new String[] {"0001", "3"})).isZero();
    }
}
