package dev.paddock.testing;

import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fork bomb for tests of process limits, as a Python program: it forks children that sleep
 * until it can fork no more, then prints how many it made and the errno ("forked N then 11" for
 * EAGAIN). Its children end with the action's process tree.
 */
public final class ForkBomb {
    public static final String PYTHON = """
            import os, time
            n = 0
            try:
                for i in range(5000):
                    if os.fork() == 0:
                        time.sleep(30)
                        os._exit(0)
                    n += 1
            except OSError as e:
                print("forked", n, "then", e.errno)
            """;

    private static final Pattern REFUSED = Pattern.compile("forked (\\d+) then 11");

    private ForkBomb() {}

    /** How many children the bomb made before fork failed with EAGAIN; empty if it never failed. */
    public static OptionalInt forkedBeforeEagain(String stdout) {
        Matcher m = REFUSED.matcher(stdout);
        return m.find() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    }
}
