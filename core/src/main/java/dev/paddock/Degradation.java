package dev.paddock;

import java.util.Objects;
import java.util.Optional;

/**
 * A sandbox setup step that fell back to something weaker, as the launcher
 * reported it: the action ran, with less than was asked for.
 *
 * @param step    what was being set up: "overlay", "proc", or "sandbox" (no namespaces at all)
 * @param path    where, inside the sandbox (null for "sandbox")
 * @param from    what failed: "kernel", "fresh", "namespaces"
 * @param to      what is used instead: "fuse", "bind", "host-bind", "landlock"
 * @param syscall the call that failed
 * @param errno   its error name ("EINVAL")
 * @param message the error's text
 * @param effect  what the action gives up, when it is not obvious from the names
 */
public record Degradation(String step, String path, String from, String to, String syscall, String errno,
        String message, Optional<String> effect) {
    public Degradation {
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(effect, "effect");
    }

    /** One line for logs and stderr. */
    public String describe() {
        return step + (path == null ? "" : " " + path) + ": " + from + " failed (" + syscall + ": " + errno + ", "
                + message + "); using " + to + effect.map(e -> ": " + e).orElse("");
    }
}
