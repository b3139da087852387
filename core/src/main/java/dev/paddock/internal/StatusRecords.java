package dev.paddock.internal;

import dev.paddock.Degradation;
import dev.paddock.Outcome;
import dev.paddock.ResourceUsage;
import dev.paddock.SetupFailure;
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
            if ("overlay".equals(note.get("type"))) {
                overlays.put(string(note, "path").orElse("?"), string(note, "impl").orElse("?"));
            } else {
                degradations.add(new Degradation(string(note, "step").orElse("?"), string(note, "path").orElse(null),
                        string(note, "from").orElse("?"), string(note, "to").orElse("?"),
                        string(note, "syscall").orElse(null), string(note, "errno").orElse(null),
                        string(note, "message").orElse(null), string(note, "effect")));
            }
        }
        if (last == null) return launcherDied(launcherWait, overlays, degradations);
        String type = string(last, "type").orElse("");
        Duration wall = Duration.ofNanos(number(last, "wall_us") * 1000);
        int exitCode = (int) number(last, "exit_code");
        if (type.equals("setup-failed") || type.equals("exec-failed")) {
            SetupFailure failure = new SetupFailure(
                    string(last, "step").orElse("unknown"),
                    string(last, "path"),
                    string(last, "syscall"),
                    string(last, "errno"),
                    string(last, "message").orElse("unknown error"),
                    string(last, "cause"),
                    string(last, "remedy"),
                    string(last, "search_path"));
            return new Outcome(exitCode, OptionalInt.empty(), Optional.empty(), false, false, Optional.empty(),
                    false, false, wall, ResourceUsage.NONE, Optional.of(failure), overlays, degradations);
        }
        if (!type.equals("exited")) return launcherDied(launcherWait, overlays, degradations);
        Object status = last.get("status");
        @SuppressWarnings("unchecked")
        Map<String, Object> ru = last.get("rusage") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        ResourceUsage usage = new ResourceUsage(
                Duration.ofNanos(number(ru, "user_us") * 1000),
                Duration.ofNanos(number(ru, "sys_us") * 1000),
                number(ru, "max_rss_kb"),
                number(ru, "minor_faults"),
                number(ru, "major_faults"),
                number(ru, "voluntary_switches"),
                number(ru, "involuntary_switches"),
                number(ru, "in_blocks"),
                number(ru, "out_blocks"));
        return new Outcome(
                exitCode,
                status instanceof Long l ? OptionalInt.of(l.intValue()) : OptionalInt.empty(),
                string(last, "signal"),
                Boolean.TRUE.equals(last.get("core_dumped")),
                Boolean.TRUE.equals(last.get("timed_out")),
                string(last, "cancelled_by"),
                Boolean.TRUE.equals(last.get("killed_after_grace")),
                Boolean.TRUE.equals(last.get("owner_lost")),
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

    private static Optional<String> string(Map<String, Object> m, String key) {
        return m.get(key) instanceof String s ? Optional.of(s) : Optional.empty();
    }

    private static long number(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number n ? n.longValue() : 0L;
    }
}
