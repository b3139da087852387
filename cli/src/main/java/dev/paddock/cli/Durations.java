package dev.paddock.cli;

import java.math.BigDecimal;
import java.time.Duration;
import picocli.CommandLine;

/** Durations on the command line: 30s, 1.5s, 200ms, 2m, 1h, or a bare number of seconds. */
public final class Durations implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
        return parse(text);
    }

    public static Duration parse(String text) {
        String t = text.trim();
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
            throw new CommandLine.TypeConversionException(
                    "'" + text + "' is not a duration; use e.g. 30s, 1.5s, 200ms, 2m or 1h");
        }
    }

    /** The shortest readable form: 1s, 1.5s, 200ms. */
    public static String format(Duration d) {
        if (d.toNanos() % 1_000_000_000L == 0) return d.toSeconds() + "s";
        if (d.toNanos() % 1_000_000L == 0 && d.toMillis() < 1000) return d.toMillis() + "ms";
        return BigDecimal.valueOf(d.toNanos(), 9).stripTrailingZeros().toPlainString() + "s";
    }
}
