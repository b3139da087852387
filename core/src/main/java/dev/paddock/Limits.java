package dev.paddock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Resource limits for one action, set as rlimits on the action's process just before exec and
 * inherited by everything it starts. Build with {@link #newBuilder()}; {@link #NONE} sets none.
 *
 * <ul>
 *   <li>{@code memoryBytes}: {@code RLIMIT_DATA}, the heap and private memory each process may
 *       map; past it an allocation fails with ENOMEM (the action's own error, such as
 *       MemoryError);
 *   <li>{@code processes}: how many processes the action may have at once. {@code RLIMIT_NPROC}
 *       counted in the sandbox's own user namespace, and, since the kernel exempts real root
 *       from that, the sandbox's pid namespace's {@code pid_max} (Linux 6.14 and later; at least
 *       301). Only with a sandbox: outside one, {@code RLIMIT_NPROC} counts every process of the
 *       user. Past it, fork fails with EAGAIN;
 *   <li>{@code cpuTime}: {@code RLIMIT_CPU}, CPU time per process, in whole seconds (rounded up):
 *       SIGXCPU at the limit, SIGKILL a second later. {@link Outcome#limitExceeded()} says so;
 *   <li>{@code fileSizeBytes}: {@code RLIMIT_FSIZE}, the largest file the action may write: a
 *       write past it fails, and the process gets SIGXFSZ. {@link Outcome#limitExceeded()} says
 *       so.
 * </ul>
 *
 * <p>The sandbox's tmpfs sizes are {@link Sandbox.Builder#tmpfsBytes(long)}.
 */
public record Limits(OptionalLong memoryBytes, OptionalInt processes, Optional<Duration> cpuTime,
                     OptionalLong fileSizeBytes) {
    /** No limits beyond the caller's own. */
    public static final Limits NONE = newBuilder().build();

    public Limits {
        Objects.requireNonNull(memoryBytes, "memoryBytes");
        Objects.requireNonNull(processes, "processes");
        Objects.requireNonNull(cpuTime, "cpuTime");
        Objects.requireNonNull(fileSizeBytes, "fileSizeBytes");
    }

    public static Builder newBuilder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.memoryBytes = memoryBytes;
        b.processes = processes;
        b.cpuTime = cpuTime;
        b.fileSizeBytes = fileSizeBytes;
        return b;
    }

    /** Whether any limit is set. */
    public boolean isEmpty() {
        return memoryBytes.isEmpty() && processes.isEmpty() && cpuTime.isEmpty() && fileSizeBytes.isEmpty();
    }

    /** The launcher's --rlimit options for these limits. */
    public List<String> launcherOptions() {
        List<String> o = new ArrayList<>();
        memoryBytes.ifPresent(b -> o.addAll(List.of("--rlimit", "data", Long.toString(b))));
        processes.ifPresent(n -> o.addAll(List.of("--rlimit", "nproc", Integer.toString(n))));
        cpuTime.ifPresent(t -> o.addAll(List.of("--rlimit", "cpu", Long.toString(wholeSeconds(t)))));
        fileSizeBytes.ifPresent(b -> o.addAll(List.of("--rlimit", "fsize", Long.toString(b))));
        return o;
    }

    private static long wholeSeconds(Duration d) {
        long s = d.getSeconds();
        return d.getNano() > 0 ? s + 1 : s;
    }

    /** "memory 2 GiB, processes 512, CPU time 60 s, file size 1 GiB": for messages. */
    public String describe() {
        List<String> parts = new ArrayList<>();
        memoryBytes.ifPresent(b -> parts.add("memory " + bytes(b)));
        processes.ifPresent(n -> parts.add("processes " + n));
        cpuTime.ifPresent(t -> parts.add("CPU time " + wholeSeconds(t) + " s"));
        fileSizeBytes.ifPresent(b -> parts.add("file size " + bytes(b)));
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }

    private static String bytes(long b) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        double v = b;
        while (v >= 1024 && u < units.length - 1 && (long) v % 1024 == 0) {
            v /= 1024;
            u++;
        }
        return (long) v + " " + units[u];
    }

    /** Builds {@link Limits}; every limit is unset until given. */
    public static final class Builder {
        private OptionalLong memoryBytes = OptionalLong.empty();
        private OptionalInt processes = OptionalInt.empty();
        private Optional<Duration> cpuTime = Optional.empty();
        private OptionalLong fileSizeBytes = OptionalLong.empty();

        private Builder() {}

        public Builder memoryBytes(long bytes) {
            if (bytes <= 0) throw new IllegalArgumentException("a memory limit must be positive, not " + bytes);
            this.memoryBytes = OptionalLong.of(bytes);
            return this;
        }

        public Builder processes(int count) {
            if (count <= 0) throw new IllegalArgumentException("a process limit must be positive, not " + count);
            this.processes = OptionalInt.of(count);
            return this;
        }

        public Builder cpuTime(Duration time) {
            if (time.isNegative() || time.isZero())
                throw new IllegalArgumentException("a CPU time limit must be positive, not " + time);
            this.cpuTime = Optional.of(time);
            return this;
        }

        public Builder fileSizeBytes(long bytes) {
            if (bytes <= 0) throw new IllegalArgumentException("a file size limit must be positive, not " + bytes);
            this.fileSizeBytes = OptionalLong.of(bytes);
            return this;
        }

        public Limits build() {
            return new Limits(memoryBytes, processes, cpuTime, fileSizeBytes);
        }
    }
}
