package dev.paddock.remote;

import build.bazel.remote.execution.v2.Platform;
import dev.paddock.Limits;
import dev.paddock.internal.Quantities;
import java.time.Duration;
import java.util.OptionalInt;

/**
 * An action's limits: the server's, lowered where the action's platform properties ask for less.
 * A property can never raise a limit above the server's (a larger value is capped); an unknown
 * property is ignored, as the API allows; a malformed value is INVALID_ARGUMENT.
 *
 * <pre>
 * paddock.memory     SIZE      RLIMIT_DATA per process (bytes, or with K, M, G, T)
 * paddock.processes  N         processes at once (only in a sandbox)
 * paddock.cpu-time   DURATION  RLIMIT_CPU per process (30s, 10m, 1h, or seconds; whole seconds)
 * paddock.file-size  SIZE      RLIMIT_FSIZE: the largest file an action may write
 * </pre>
 */
final class PlatformLimits {
    static final String MEMORY = "paddock.memory";
    static final String PROCESSES = "paddock.processes";
    static final String CPU_TIME = "paddock.cpu-time";
    static final String FILE_SIZE = "paddock.file-size";

    private PlatformLimits() {}

    /** The limits for an action on platform, under the server's; processes only when sandboxed. */
    static Limits of(Platform platform, Limits server, boolean sandboxed) throws BadRequest {
        Limits.Builder b = server.toBuilder();
        for (Platform.Property p : platform.getPropertiesList()) {
            String v = p.getValue().strip();
            switch (p.getName()) {
                case MEMORY -> b.memoryBytes(Math.min(size(p.getName(), v), server.memoryBytes().orElse(Long.MAX_VALUE)));
                case PROCESSES -> b.processes((int) Math.min(count(p.getName(), v), server.processes().orElse(Integer.MAX_VALUE)));
                case CPU_TIME -> {
                    Duration asked = duration(p.getName(), v);
                    b.cpuTime(server.cpuTime().filter(max -> max.compareTo(asked) < 0).orElse(asked));
                }
                case FILE_SIZE -> b.fileSizeBytes(Math.min(size(p.getName(), v), server.fileSizeBytes().orElse(Long.MAX_VALUE)));
                default -> { } // another engine's property, or one paddock does not know
            }
        }
        Limits limits = b.build();
        if (!sandboxed && limits.processes().isPresent()) {
            // Outside a sandbox RLIMIT_NPROC would count every process of the serving user.
            limits = new Limits(limits.memoryBytes(), OptionalInt.empty(), limits.cpuTime(), limits.fileSizeBytes());
        }
        return limits;
    }

    private static long size(String name, String value) throws BadRequest {
        try {
            return Quantities.size(value);
        } catch (IllegalArgumentException e) {
            throw new BadRequest("platform property " + name + " " + e.getMessage());
        }
    }

    private static long count(String name, String value) throws BadRequest {
        try {
            long n = Long.parseLong(value);
            if (n <= 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new BadRequest("platform property " + name + " '" + value + "' must be a positive whole number");
        }
    }

    private static Duration duration(String name, String value) throws BadRequest {
        Duration d;
        try {
            d = Quantities.duration(value);
        } catch (IllegalArgumentException e) {
            throw new BadRequest("platform property " + name + " " + e.getMessage());
        }
        if (d.isZero()) throw new BadRequest("platform property " + name + " must be longer than 0");
        return d;
    }
}
