package io.shardlift.ops;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Range-checked numeric options: picocli turns a refused value into a usage error (exit code 2, the message and
 * the usage, no stack trace) before the command runs. Every numeric option of every command uses one of these.
 */
public final class Numbers {

    private Numbers() {
    }

    static long parse(String value, long min, long max, String example) {
        long v;
        try {
            v = Long.parseLong(value.strip().replace("_", ""));
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not a whole number; " + range(min, max) + ", e.g. " + example);
        }
        if (v < min || v > max) {
            throw new TypeConversionException("'" + value + "' is out of range; " + range(min, max) + ", e.g. " + example);
        }
        return v;
    }

    private static String range(long min, long max) {
        return max == Long.MAX_VALUE || max == Integer.MAX_VALUE ? "it must be at least " + min
                : "it must be from " + min + " to " + max;
    }

    /** Parallel jobs: 1..256, the bound of {@code migrate.jobs}. */
    public static final class Jobs implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return (int) parse(value, 1, 256, "4");
        }
    }

    /** Rows (per chunk, or to load): at least 1. */
    public static final class Rows implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return parse(value, 1, Long.MAX_VALUE, "250000");
        }
    }

    /** A count that must be at least 1. */
    public static final class Positive implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return (int) parse(value, 1, Integer.MAX_VALUE, "4");
        }
    }

    /** A count or a number of seconds where 0 means none or off. */
    public static final class NonNegative implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return (int) parse(value, 0, Integer.MAX_VALUE, "5");
        }
    }
}
