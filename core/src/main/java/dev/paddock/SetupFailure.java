package dev.paddock;

import java.util.Optional;

/**
 * Why an action never started: the setup step that failed, the path it was
 * working on, the system call and errno the kernel answered, the most likely
 * cause (worked out from what the host says about itself: the user-namespace
 * sysctls, the seccomp mode, the mounts over /proc) and the remedy. Never
 * confused with the action's own exit status. docs/diagnostics.md lists the
 * known causes.
 *
 * @param step       "exec", "chdir", "clone", "proc", "overlay-kernel", "options", "launcher", ...
 * @param path       the path the failing call was given, if any
 * @param syscall    the failing system call, if known
 * @param errno      the errno name, e.g. "ENOENT", if known
 * @param message    the system's message for errno, or a description
 * @param cause      the most likely cause, if paddock knows it
 * @param remedy     what to do about it, if paddock knows
 * @param searchPath for exec failures of a bare command name: the PATH searched
 */
public record SetupFailure(
        String step,
        Optional<String> path,
        Optional<String> syscall,
        Optional<String> errno,
        String message,
        Optional<String> cause,
        Optional<String> remedy,
        Optional<String> searchPath) {

    /** True when the command was not found (exit code 127). */
    public boolean isNotFound() {
        return step.equals("exec") && errno.filter(e -> e.equals("ENOENT") || e.equals("ENOTDIR")).isPresent();
    }

    /** Readable sentences for users: what failed, where, the call, why, and what to do. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        String where = path.orElse("");
        if (isNotFound() && searchPath.isPresent()) {
            sb.append("command not found: '").append(where).append("' is in none of the directories of PATH=")
                    .append(searchPath.get());
        } else if (step.equals("exec")) {
            sb.append("cannot execute '").append(where).append("': ").append(message);
        } else if (step.equals("chdir")) {
            sb.append("cannot change to working directory '").append(where).append("': ").append(message);
        } else {
            sb.append("setup step '").append(step).append("' failed");
            if (!where.isEmpty()) sb.append(" for '").append(where).append('\'');
            sb.append(": ").append(message);
        }
        if (syscall.isPresent() || errno.isPresent())
            sb.append(" [").append(syscall.orElse("?")).append(errno.map(e -> " " + e).orElse("")).append(']');
        cause.ifPresent(c -> sb.append(". Cause: ").append(c));
        remedy.ifPresent(r -> sb.append(". Remedy: ").append(r));
        return sb.toString();
    }
}
