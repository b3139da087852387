package dev.paddock;

import java.util.Objects;

/**
 * A sandbox setup step that fell back to a weaker implementation, as the
 * launcher reported it: the action ran, with less than was asked for.
 *
 * @param step    what was being set up ("overlay")
 * @param path    where, inside the sandbox
 * @param from    the implementation that failed ("kernel")
 * @param to      the one used instead ("fuse")
 * @param syscall the call that failed
 * @param errno   its error name ("EINVAL")
 * @param message the error's text
 */
public record Degradation(String step, String path, String from, String to, String syscall, String errno,
        String message) {
    public Degradation {
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
    }

    /** One line for logs and stderr. */
    public String describe() {
        return step + " " + path + ": " + from + " failed (" + syscall + ": " + errno + ", " + message + "); using "
                + to;
    }
}
