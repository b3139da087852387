package dev.paddock.cli;

import dev.paddock.Action;
import dev.paddock.Execution;
import dev.paddock.Paddock;
import dev.paddock.Stdio;
import dev.paddock.internal.Json;
import dev.paddock.internal.NativeBinaries;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every `paddock bench` subcommand shares: subjects measured from JVM
 * threads or by a C baseline program, a warm-up, rounds that alternate between
 * the subjects (the machine's noise then hits all of them alike), and the
 * table and JSON that report them with paddock's ratio to each other subject.
 */
final class BenchHarness {
    static final int ROUNDS = 5;
    /** The warm-up ends once this many cycles of batches in a row spent under 1% of their time compiling. */
    static final int QUIET_CYCLES = 3;
    static final String PADDOCK = "paddock";

    /** One subject's latencies (ns), failures and wall time for a batch of spawns. */
    record Measurement(long[] latencies, long failures, long wallNs) {}

    @FunctionalInterface
    interface Subject {
        Measurement measure(int n) throws Exception;
    }

    /** One spawn; true when it did everything it should. */
    @FunctionalInterface
    interface Spawn {
        boolean once() throws Exception;
    }

    private final int spawns;
    private final int concurrency;
    private final Duration warmup;
    private final Paddock paddock;
    private final PrintWriter out;

    /** paddock runs the C baselines too: it does not depend on the JDK's spawn helper, which pty4j upsets. */
    BenchHarness(int spawns, int concurrency, Duration warmup, Paddock paddock, PrintWriter out) {
        this.spawns = spawns;
        this.concurrency = concurrency;
        this.warmup = warmup;
        this.paddock = paddock;
        this.out = out;
    }

    /**
     * Warms the subjects up, then measures them in alternating rounds; paddock first.
     *
     * <p>The warm-up alternates batches between the subjects as the rounds do, because the C
     * baselines run through paddock too, with their output piped: a paddock warmed on discarded
     * output alone is deoptimized by the first piped run and recompiled during the measured rounds.
     * It lasts the warm-up time per subject, then goes on until the last three cycles of batches
     * together spent under 1% of their time compiling (a daemon that has run for a while has
     * compiled its hot paths; on two cores the JIT compiles in bursts for 15 seconds or more, with
     * quiet cycles between them, and one quiet cycle ended the warm-up in the middle of them), but
     * at most three times as long. It says how long it took.
     */
    List<LatencyStats> run(Map<String, Subject> subjects) throws Exception {
        int batch = Math.min(500, Math.max(50, spawns / 5));
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
        long minimum = warmup.toNanos() * subjects.size();
        long start = System.nanoTime();
        boolean jitQuiet = false;
        Deque<long[]> recent = new ArrayDeque<>(); // {cycle ms, compiling ms} of the last cycles
        do {
            long cycleStart = System.nanoTime();
            long compiledMillis = jitTimed ? jit.getTotalCompilationTime() : 0;
            for (Subject subject : subjects.values()) subject.measure(batch);
            recent.addLast(new long[] {(System.nanoTime() - cycleStart) / 1_000_000,
                    jitTimed ? jit.getTotalCompilationTime() - compiledMillis : 0});
            if (recent.size() > QUIET_CYCLES) recent.removeFirst();
            jitQuiet = jitTimed && recent.size() == QUIET_CYCLES
                    && recent.stream().mapToLong(c -> c[1]).sum() * 100 < recent.stream().mapToLong(c -> c[0]).sum();
        } while (System.nanoTime() - start < minimum || (!jitQuiet && jitTimed && System.nanoTime() - start < 3 * minimum));
        out.printf(Locale.ROOT, "warm-up: %.1f s, %s%n", (System.nanoTime() - start) / 1e9, !jitTimed
                ? "this JVM does not time its JIT compiler"
                : jitQuiet ? "until the JIT had gone quiet" : "the JIT was still compiling at the limit");
        out.flush();
        Map<String, List<Measurement>> samples = new LinkedHashMap<>();
        subjects.keySet().forEach(name -> samples.put(name, new ArrayList<>()));
        for (int round = 0; round < ROUNDS; round++) {
            int n = spawns / ROUNDS + (round < spawns % ROUNDS ? 1 : 0);
            for (Map.Entry<String, Subject> subject : subjects.entrySet())
                samples.get(subject.getKey()).add(subject.getValue().measure(n));
        }
        List<LatencyStats> stats = new ArrayList<>();
        samples.forEach((name, batches) -> stats.add(LatencyStats.of(name,
                batches.stream().flatMapToLong(m -> Arrays.stream(m.latencies())).toArray(),
                batches.stream().mapToLong(Measurement::failures).sum(),
                batches.stream().mapToLong(Measurement::wallNs).sum())));
        return stats;
    }

    /** Spawns n times from this JVM at the harness's concurrency. */
    Measurement measure(int n, Spawn spawn) throws Exception {
        long[] latencies = new long[n];
        AtomicInteger next = new AtomicInteger();
        AtomicLong failures = new AtomicLong();
        long start = System.nanoTime();
        try (ExecutorService threads = Executors.newFixedThreadPool(concurrency)) {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < concurrency; t++) {
                workers.add(threads.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < n; ) {
                        long t0 = System.nanoTime();
                        boolean ok;
                        try {
                            ok = spawn.once();
                        } catch (Exception e) {
                            ok = false;
                        }
                        latencies[i] = System.nanoTime() - t0;
                        if (!ok) failures.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> w : workers) w.get();
        }
        return new Measurement(latencies, failures.get(), System.nanoTime() - start);
    }

    /**
     * A C baseline (the native program named baseline, given N, C and args) measures itself;
     * its output is one latency in ns per line, then "wall_ns W" and "failures F".
     */
    Measurement measureC(String baseline, int n, List<String> args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(
                NativeBinaries.path(baseline).toString(), Integer.toString(n), Integer.toString(concurrency)));
        argv.addAll(args);
        Execution baselineRun = paddock.start(Action.newBuilder(argv).stdout(Stdio.pipe()).stderr(Stdio.inherit()).build());
        long[] latencies = new long[n];
        long failures = n;
        long wall = 0;
        int count = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(baselineRun.stdout(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("failures ")) failures = Long.parseLong(line.substring(9).trim());
                else if (line.startsWith("wall_ns ")) wall = Long.parseLong(line.substring(8).trim());
                else if (count < n) latencies[count++] = Long.parseLong(line.trim());
            }
        }
        if (baselineRun.await().exitCode() != 0 || count != n) failures = Math.max(failures, n - count);
        return new Measurement(latencies, failures, wall);
    }

    static void report(PrintWriter out, List<LatencyStats> stats) {
        out.printf(Locale.ROOT, "%-16s %8s %10s %10s %10s %12s %9s%n",
                "subject", "spawns", "median_us", "p90_us", "p99_us", "per_second", "failures");
        for (LatencyStats s : stats)
            out.printf(Locale.ROOT, "%-16s %8d %10.1f %10.1f %10.1f %12.1f %9d%n",
                    s.name(), s.spawns(), s.medianUs(), s.p90Us(), s.p99Us(), s.perSecond(), s.failures());
        LatencyStats paddock = stats.get(0);
        for (LatencyStats other : stats.subList(1, stats.size()))
            out.printf(Locale.ROOT, "median ratio paddock/%s: %.2f%n", other.name(), paddock.medianUs() / other.medianUs());
        for (LatencyStats other : stats.subList(1, stats.size()))
            out.printf(Locale.ROOT, "throughput ratio paddock/%s: %.2f%n", other.name(),
                    paddock.perSecond() / other.perSecond());
        out.flush();
    }

    /** The figures as JSON: the header's fields, then subjects and paddock's median ratios. */
    static String toJson(Map<String, Object> header, List<LatencyStats> stats) {
        Map<String, Object> root = new LinkedHashMap<>(header);
        root.put("subjects", stats.stream().map(LatencyStats::toMap).toList());
        Map<String, Object> ratios = new LinkedHashMap<>();
        for (LatencyStats other : stats.subList(1, stats.size()))
            ratios.put("paddock/" + other.name(), Math.round(stats.get(0).medianUs() / other.medianUs() * 1000) / 1000.0);
        root.put("median_ratios", ratios);
        Map<String, Object> throughput = new LinkedHashMap<>();
        for (LatencyStats other : stats.subList(1, stats.size()))
            throughput.put("paddock/" + other.name(),
                    Math.round(stats.get(0).perSecond() / other.perSecond() * 1000) / 1000.0);
        root.put("throughput_ratios", throughput);
        return Json.write(root);
    }
}
