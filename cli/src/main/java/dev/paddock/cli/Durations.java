package dev.paddock.cli;

import java.math.BigDecimal;
import java.time.Duration;
import dev.paddock.internal.Quantities;
import picocli.CommandLine;

/** Durations on the command line: 30s, 1.5s, 200ms, 2m, 1h, or a bare number of seconds. */
public final class Durations implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
        return parse(text);
    }

    public static Duration parse(String text) {
        try {
            return Quantities.duration(text);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }

    /** The shortest readable form: 1s, 1.5s, 200ms. */
    public static String format(Duration d) {
        if (d.toNanos() % 1_000_000_000L == 0) return d.toSeconds() + "s";
        if (d.toNanos() % 1_000_000L == 0 && d.toMillis() < 1000) return d.toMillis() + "ms";
        return BigDecimal.valueOf(d.toNanos(), 9).stripTrailingZeros().toPlainString() + "s";
    }
}
