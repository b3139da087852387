package dev.paddock.internal;

import java.util.Optional;

/** Decoding of raw waitpid statuses (Linux layout). */
public final class WaitStatus {
    private WaitStatus() {}

    public static boolean exited(int status) {
        return (status & 0x7f) == 0;
    }

    public static int exitStatus(int status) {
        return (status >> 8) & 0xff;
    }

    public static int termSignal(int status) {
        return status & 0x7f;
    }

    /** GNU convention: the status, or 128+N for signal N. */
    public static int exitCode(int status) {
        return exited(status) ? exitStatus(status) : 128 + termSignal(status);
    }

    public static Optional<String> signalName(int status) {
        return exited(status) ? Optional.empty() : Optional.of(Signals.name(termSignal(status)));
    }

    public static String describe(int status) {
        return exited(status) ? "exited with status " + exitStatus(status) : "was killed by " + Signals.name(termSignal(status));
    }
}
