package dev.paddock.internal;

import dev.paddock.Degradation;
import dev.paddock.Outcome;
import dev.paddock.ResourceUsage;
import dev.paddock.SetupFailure;
import dev.paddock.internal.StatusRecord.Field;
import dev.paddock.internal.StatusRecord.Usage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/** Turns the launcher's status records (JSON lines) into an {@link Outcome}. */
public final class StatusRecords {
    private StatusRecords() {}

    /**
     * The outcome of one one-shot launcher run.
     *
     * @param last          the last record the launcher wrote ("exited", "setup-failed" or
     *                      "exec-failed"), or null if it wrote none
     * @param notes         the sandbox's "overlay" and "degraded" records, in order
     * @param launcherWait  the launcher's raw wait status
     */
    public static Outcome outcome(Map<String, Object> last, List<Map<String, Object>> notes, int launcherWait) {
        return outcome(last, notes, OptionalInt.of(launcherWait));
    }

    /** The outcome of one action run by the spawn server: its keeper's records, as {@link #outcome}. */
    public static Outcome servedOutcome(Map<String, Object> last, List<Map<String, Object>> notes) {
        return outcome(last, notes, OptionalInt.empty());
    }

    /** launcherWait is empty for a spawn server's action: the keeper is not ours to wait for. */
    private static Outcome outcome(Map<String, Object> last, List<Map<String, Object>> notes,
            OptionalInt launcherWait) {
        Map<String, String> overlays = new LinkedHashMap<>();
        List<Degradation> degradations = new ArrayList<>();
        for (Map<String, Object> note : notes) {
            if (StatusRecord.of(note).orElse(null) == StatusRecord.OVERLAY) {
                overlays.put(string(note, Field.PATH).orElse("?"), string(note, Field.IMPL).orElse("?"));
            } else {
                degradations.add(new Degradation(string(note, Field.STEP).orElse("?"),
                        string(note, Field.PATH).orElse(null),
                        string(note, Field.FROM).orElse("?"), string(note, Field.TO).orElse("?"),
                        string(note, Field.SYSCALL).orElse(null), string(note, Field.ERRNO).orElse(null),
                        string(note, Field.MESSAGE).orElse(null), string(note, Field.EFFECT)));
            }
        }
        if (last == null) return launcherDied(launcherWait, overlays, degradations);
        StatusRecord type = StatusRecord.of(last).orElse(null);
        Duration wall = Duration.ofNanos(number(last, Field.WALL_US) * 1000);
        int exitCode = (int) number(last, Field.EXIT_CODE);
        if (type == StatusRecord.SETUP_FAILED || type == StatusRecord.EXEC_FAILED) {
            SetupFailure failure = new SetupFailure(
                    string(last, Field.STEP).orElse("unknown"),
                    string(last, Field.PATH),
                    string(last, Field.SYSCALL),
                    string(last, Field.ERRNO),
                    string(last, Field.MESSAGE).orElse("unknown error"),
                    string(last, Field.CAUSE),
                    string(last, Field.REMEDY),
                    string(last, Field.SEARCH_PATH));
            return new Outcome(exitCode, OptionalInt.empty(), Optional.empty(), false, false, Optional.empty(),
                    false, false, wall, ResourceUsage.NONE, Optional.of(failure), overlays, degradations);
        }
        if (type != StatusRecord.EXITED) return launcherDied(launcherWait, overlays, degradations);
        Object status = Field.STATUS.in(last);
        @SuppressWarnings("unchecked")
        Map<String, Object> ru = Field.RUSAGE.in(last) instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        ResourceUsage usage = new ResourceUsage(
                Duration.ofNanos(usage(ru, Usage.USER_US) * 1000),
                Duration.ofNanos(usage(ru, Usage.SYS_US) * 1000),
                usage(ru, Usage.MAX_RSS_KB),
                usage(ru, Usage.MINOR_FAULTS),
                usage(ru, Usage.MAJOR_FAULTS),
                usage(ru, Usage.VOLUNTARY_SWITCHES),
                usage(ru, Usage.INVOLUNTARY_SWITCHES),
                usage(ru, Usage.IN_BLOCKS),
                usage(ru, Usage.OUT_BLOCKS));
        return new Outcome(
                exitCode,
                status instanceof Long l ? OptionalInt.of(l.intValue()) : OptionalInt.empty(),
                string(last, Field.SIGNAL),
                Boolean.TRUE.equals(Field.CORE_DUMPED.in(last)),
                Boolean.TRUE.equals(Field.TIMED_OUT.in(last)),
                string(last, Field.CANCELLED_BY),
                Boolean.TRUE.equals(Field.KILLED_AFTER_GRACE.in(last)),
                Boolean.TRUE.equals(Field.OWNER_LOST.in(last)),
                wall,
                usage,
                Optional.empty(),
                overlays,
                degradations);
    }

    /** The launcher (or the spawn server) ended without a final record: it was killed or crashed. */
    private static Outcome launcherDied(OptionalInt wait, Map<String, String> overlays,
            List<Degradation> degradations) {
        SetupFailure failure;
        int code = 125;
        Optional<String> signal = Optional.empty();
        if (wait.isPresent()) {
            failure = new SetupFailure("launcher", Optional.empty(), Optional.empty(), Optional.empty(),
                    "paddock-launch " + WaitStatus.describe(wait.getAsInt()) + " before reporting an outcome",
                    Optional.of("the launcher's own messages went to the action's stderr; if something killed it, "
                            + "the action's processes were killed with it"),
                    Optional.empty(), Optional.empty());
            int launcherCode = WaitStatus.exitCode(wait.getAsInt());
            if (launcherCode != 0) code = launcherCode;
            signal = WaitStatus.signalName(wait.getAsInt());
        } else {
            failure = new SetupFailure("spawn-server", Optional.empty(), Optional.empty(), Optional.empty(),
                    "the spawn server ended before reporting this action's outcome",
                    Optional.of("its messages went to this process's stderr; the action's processes were killed "
                            + "with it, and the next spawn starts a new server"),
                    Optional.empty(), Optional.empty());
        }
        return new Outcome(code, OptionalInt.empty(), signal, false, false, Optional.empty(), false, false,
                Duration.ZERO, ResourceUsage.NONE, Optional.of(failure), overlays, degradations);
    }

    private static Optional<String> string(Map<String, Object> m, Field field) {
        return field.in(m) instanceof String s ? Optional.of(s) : Optional.empty();
    }

    private static long number(Map<String, Object> m, Field field) {
        return field.in(m) instanceof Number n ? n.longValue() : 0L;
    }

    private static long usage(Map<String, Object> rusage, Usage field) {
        return rusage.get(field.key()) instanceof Number n ? n.longValue() : 0L;
    }
}
