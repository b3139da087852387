package dev.paddock.internal;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;

/**
 * Sizes and durations as people write them, for the command line and for REAPI platform
 * properties alike: one syntax everywhere. Malformed text is an IllegalArgumentException whose
 * message says what is expected; callers prefix the option or property name.
 */
public final class Quantities {
    private Quantities() {}

    /** A positive size: bytes, or a number with K, M, G or T (binary units; a trailing B or iB is fine). */
    public static long size(String text) {
        String t = text.strip().toUpperCase(Locale.ROOT);
        if (t.endsWith("B")) t = t.substring(0, t.length() - 1);
        if (t.endsWith("I")) t = t.substring(0, t.length() - 1);
        long unit = 1;
        if (!t.isEmpty()) {
            int shift = "KMGT".indexOf(t.charAt(t.length() - 1));
            if (shift >= 0) {
                unit = 1L << (10 * (shift + 1));
                t = t.substring(0, t.length() - 1);
            }
        }
        try {
            long n = Long.parseLong(t.strip());
            if (n <= 0) throw new NumberFormatException();
            return Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(
                    "'" + text + "' must be a positive size: bytes, or a number with K, M, G or T (such as 20G)");
        }
    }

    /** A duration that is not negative: 30s, 1.5s, 200ms, 2m, 1h, or a bare number of seconds. */
    public static Duration duration(String text) {
        String t = text.strip();
        String number;
        long unitNanos;
        if (t.endsWith("ms")) {
            number = t.substring(0, t.length() - 2);
            unitNanos = 1_000_000L;
        } else if (t.endsWith("s")) {
            number = t.substring(0, t.length() - 1);
            unitNanos = 1_000_000_000L;
        } else if (t.endsWith("m")) {
            number = t.substring(0, t.length() - 1);
            unitNanos = 60_000_000_000L;
        } else if (t.endsWith("h")) {
            number = t.substring(0, t.length() - 1);
            unitNanos = 3_600_000_000_000L;
        } else {
            number = t;
            unitNanos = 1_000_000_000L;
        }
        try {
            BigDecimal value = new BigDecimal(number);
            if (value.signum() < 0) throw new NumberFormatException();
            return Duration.ofNanos(value.multiply(BigDecimal.valueOf(unitNanos)).longValueExact());
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("'" + text + "' is not a duration; use e.g. 30s, 1.5s, 200ms, 2m or 1h");
        }
    }
}
