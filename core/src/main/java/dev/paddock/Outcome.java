package dev.paddock;

import dev.paddock.internal.Json;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How an action ended.
 *
 * @param exitCode         GNU conventions, as {@code timeout} and {@code env} use them: the
 *                         action's own status, 128+N if killed by signal N, 124 timed out,
 *                         125 setup failed, 126 not executable, 127 not found
 * @param status           the action's own exit status, if it exited normally
 * @param signal           the signal that killed the action ("SIGKILL"), if one did
 * @param coreDumped       whether that signal dumped core
 * @param timedOut         the timeout expired (exitCode is then 124)
 * @param cancelledBy      the signal that asked for termination ("SIGTERM" for
 *                         {@link Execution#cancel()}), if any
 * @param killedAfterGrace the tree did not end within the grace period and got SIGKILL
 * @param ownerLost        the action's supervisor lost its owner (the spawn server died, or the
 *                         lifeline closed) and killed the whole tree: the action did not end on
 *                         its own
 * @param wallTime         from spawn to the end of the action's main process
 * @param resourceUsage    the whole tree's usage
 * @param setupFailure     present when the action never started
 * @param overlays         for a sandbox: each overlay's destination and the implementation that
 *                         mounted it ("kernel", "fuse" or "bind"), in order
 * @param degradations     for a sandbox: every setup step that fell back to a weaker implementation
 */
public record Outcome(
        int exitCode,
        OptionalInt status,
        Optional<String> signal,
        boolean coreDumped,
        boolean timedOut,
        Optional<String> cancelledBy,
        boolean killedAfterGrace,
        boolean ownerLost,
        Duration wallTime,
        ResourceUsage resourceUsage,
        Optional<SetupFailure> setupFailure,
        Map<String, String> overlays,
        List<Degradation> degradations) {

    public Outcome {
        overlays = Collections.unmodifiableMap(new LinkedHashMap<>(overlays));
        degradations = List.copyOf(degradations);
    }

    /** Started, exited with status 0, not timed out, not killed for a lost owner. */
    public boolean succeeded() {
        return exitCode == 0 && setupFailure.isEmpty() && !timedOut && !ownerLost;
    }

    /**
     * The limit (see {@link Limits}) whose signal ended the action: "cpu-time" for SIGXCPU,
     * "file-size" for SIGXFSZ. Memory and process limits make calls fail (ENOMEM, EAGAIN)
     * instead of sending a signal; the action reports those itself. A shell whose child a limit
     * ended exits with 128 plus the signal's number (152, 153) instead.
     */
    public Optional<String> limitExceeded() {
        return signal.flatMap(s -> switch (s) {
            case "SIGXCPU" -> Optional.of("cpu-time");
            case "SIGXFSZ" -> Optional.of("file-size");
            default -> Optional.empty();
        });
    }

    /** The outcome as one JSON object (the record {@code paddock run --json} writes). */
    public String toJson() {
        return Json.write(toMap());
    }

    private Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("exit_code", exitCode);
        m.put("status", status.isPresent() ? status.getAsInt() : null);
        m.put("signal", signal.orElse(null));
        m.put("core_dumped", coreDumped);
        m.put("limit_exceeded", limitExceeded().orElse(null));
        m.put("timed_out", timedOut);
        m.put("cancelled_by", cancelledBy.orElse(null));
        m.put("killed_after_grace", killedAfterGrace);
        m.put("owner_lost", ownerLost);
        m.put("wall_time_us", wallTime.toNanos() / 1000);
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("user_us", resourceUsage.userTime().toNanos() / 1000);
        u.put("sys_us", resourceUsage.systemTime().toNanos() / 1000);
        u.put("max_rss_kb", resourceUsage.maxRssKilobytes());
        u.put("minor_faults", resourceUsage.minorFaults());
        u.put("major_faults", resourceUsage.majorFaults());
        u.put("voluntary_switches", resourceUsage.voluntaryContextSwitches());
        u.put("involuntary_switches", resourceUsage.involuntaryContextSwitches());
        u.put("in_blocks", resourceUsage.inBlocks());
        u.put("out_blocks", resourceUsage.outBlocks());
        m.put("rusage", u);
        if (setupFailure.isPresent()) {
            SetupFailure f = setupFailure.get();
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("step", f.step());
            s.put("path", f.path().orElse(null));
            s.put("syscall", f.syscall().orElse(null));
            s.put("errno", f.errno().orElse(null));
            s.put("message", f.message());
            s.put("cause", f.cause().orElse(null));
            s.put("remedy", f.remedy().orElse(null));
            s.put("search_path", f.searchPath().orElse(null));
            s.put("description", f.describe());
            m.put("setup_failure", s);
        } else {
            m.put("setup_failure", null);
        }
        if (!overlays.isEmpty()) m.put("overlays", overlays);
        if (!degradations.isEmpty()) {
            m.put("degradations", degradations.stream().map(d -> {
                Map<String, Object> dm = new LinkedHashMap<>();
                dm.put("step", d.step());
                dm.put("path", d.path());
                dm.put("from", d.from());
                dm.put("to", d.to());
                dm.put("syscall", d.syscall());
                dm.put("errno", d.errno());
                dm.put("message", d.message());
                dm.put("effect", d.effect().orElse(null));
                dm.put("description", d.describe());
                return dm;
            }).toList());
        }
        return m;
    }
}
