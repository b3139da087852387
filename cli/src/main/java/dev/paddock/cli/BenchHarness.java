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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * What every `paddock bench` subcommand shares: subjects measured from JVM
 * threads or by a C baseline program, a warm-up, rounds that alternate between
 * the subjects (the machine's noise then hits all of them alike), and the
 * table and JSON that report them with paddock's ratio to each other subject.
 */
final class BenchHarness {
    /** At least this many rounds, and more for larger runs: at most ROUND_SPAWNS spawns per subject each. */
    static final int MIN_ROUNDS = 5;
    static final int ROUND_SPAWNS = 500;
    /** The warm-up ends once this many cycles of batches in a row spent under 1% of their time compiling. */
    static final int QUIET_CYCLES = 3;
    /** The most batches a subject runs in one warm-up cycle while the JIT keeps compiling during them. */
    static final int WARMUP_REPEATS = 4;
    static final String PADDOCK = "paddock";

    /** One subject's latencies (ns), failures and wall time for a batch of spawns. */
    record Measurement(long[] latencies, long failures, long wallNs) {
        LatencyStats stats(String name) {
            return LatencyStats.of(name, latencies, failures, wallNs);
        }
    }

    /** The subjects' figures over the whole run (paddock first), and each round's, in the same order. */
    record Figures(List<LatencyStats> total, List<List<LatencyStats>> rounds) {
        LatencyStats paddock() {
            return total.get(0);
        }

        List<LatencyStats> others() {
            return total.subList(1, total.size());
        }

        /** paddock's median over that of the subject at this index of total (1 and up), in every round. */
        double[] roundMedianRatios(int subject) {
            return rounds.stream().mapToDouble(r -> r.get(0).medianUs() / r.get(subject).medianUs()).toArray();
        }

        /** paddock's throughput over that of the subject at this index of total (1 and up), in every round. */
        double[] roundThroughputRatios(int subject) {
            return rounds.stream().mapToDouble(r -> r.get(0).perSecond() / r.get(subject).perSecond()).toArray();
        }
    }

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

    /** Rounds of at most ROUND_SPAWNS spawns per subject: the shorter a round, the less the machine drifts within it. */
    int rounds() {
        return Math.max(MIN_ROUNDS, (spawns + ROUND_SPAWNS - 1) / ROUND_SPAWNS);
    }

    /**
     * Warms the subjects up, then measures them in alternating rounds, every other one in reverse
     * order (paddock first, then last), so that a machine drifting steadily through the run favours
     * no subject.
     *
     * <p>The warm-up alternates batches between the subjects as the rounds do, because the C
     * baselines run through paddock too, with their output piped: a paddock warmed on discarded
     * output alone is deoptimized by the first piped run and recompiled during the measured rounds.
     * It lasts the warm-up time per subject, then goes on until the last three cycles of batches
     * together spent under 1% of their time compiling (a daemon that has run for a while has
     * compiled its hot paths; on two cores the JIT compiles in bursts for 15 seconds or more, with
     * quiet cycles between them, and one quiet cycle ended the warm-up in the middle of them), but
     * at most ten times as long. Within a cycle, a subject whose batch kept the JIT compiling runs
     * another (up to WARMUP_REPEATS in all): a subject served by this JVM (a gRPC server, say)
     * needs many times the spawns of a C baseline before its paths are compiled, and with equal
     * turns the C baselines took two thirds of the warm-up. It says how long it took.
     */
    Figures run(Map<String, Subject> subjects) throws Exception {
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
            for (Subject subject : subjects.values()) {
                for (int turn = 0; turn < WARMUP_REPEATS; turn++) {
                    long batchStart = System.nanoTime();
                    long batchCompiled = jitTimed ? jit.getTotalCompilationTime() : 0;
                    subject.measure(batch);
                    if (!jitTimed || (jit.getTotalCompilationTime() - batchCompiled) * 100
                            < (System.nanoTime() - batchStart) / 1_000_000) break;
                }
            }
            recent.addLast(new long[] {(System.nanoTime() - cycleStart) / 1_000_000,
                    jitTimed ? jit.getTotalCompilationTime() - compiledMillis : 0});
            if (recent.size() > QUIET_CYCLES) recent.removeFirst();
            jitQuiet = jitTimed && recent.size() == QUIET_CYCLES
                    && recent.stream().mapToLong(c -> c[1]).sum() * 100 < recent.stream().mapToLong(c -> c[0]).sum();
        } while (System.nanoTime() - start < minimum || (!jitQuiet && jitTimed && System.nanoTime() - start < 10 * minimum));
        out.printf(Locale.ROOT, "warm-up: %.1f s, %s%n", (System.nanoTime() - start) / 1e9, !jitTimed
                ? "this JVM does not time its JIT compiler"
                : jitQuiet ? "until the JIT had gone quiet" : "the JIT was still compiling at the limit");
        out.flush();
        List<String> names = List.copyOf(subjects.keySet());
        List<Measurement[]> rounds = new ArrayList<>();
        int count = rounds();
        for (int round = 0; round < count; round++) {
            int n = spawns / count + (round < spawns % count ? 1 : 0);
            Measurement[] measured = new Measurement[names.size()];
            for (int k = 0; k < names.size(); k++) {
                int i = round % 2 == 0 ? k : names.size() - 1 - k;
                measured[i] = subjects.get(names.get(i)).measure(n);
            }
            rounds.add(measured);
        }
        List<LatencyStats> total = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            int subject = i;
            total.add(LatencyStats.of(names.get(i),
                    rounds.stream().flatMapToLong(r -> Arrays.stream(r[subject].latencies())).toArray(),
                    rounds.stream().mapToLong(r -> r[subject].failures()).sum(),
                    rounds.stream().mapToLong(r -> r[subject].wallNs()).sum()));
        }
        List<List<LatencyStats>> perRound = rounds.stream()
                .map(r -> IntStream.range(0, names.size()).mapToObj(i -> r[i].stats(names.get(i))).toList())
                .toList();
        return new Figures(total, perRound);
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

    /** bubblewrap's program in PATH, which the sandboxed benchmarks compare with; empty when it is not installed. */
    static Optional<String> bwrap() {
        for (String dir : searchPath().split(":")) {
            Path bwrap = Path.of(dir.isEmpty() ? "." : dir, "bwrap");
            if (Files.isRegularFile(bwrap) && Files.isExecutable(bwrap)) return Optional.of(bwrap.toString());
        }
        return Optional.empty();
    }

    /** The PATH bwrap() searches, for messages. */
    static String searchPath() {
        return System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    }

    /** The table, then paddock's ratios to each other subject: over the run, and the lowest and highest round's. */
    static void report(PrintWriter out, Figures figures) {
        out.printf(Locale.ROOT, "%-16s %8s %10s %10s %10s %12s %9s%n",
                "subject", "spawns", "median_us", "p90_us", "p99_us", "per_second", "failures");
        for (LatencyStats s : figures.total())
            out.printf(Locale.ROOT, "%-16s %8d %10.1f %10.1f %10.1f %12.1f %9d%n",
                    s.name(), s.spawns(), s.medianUs(), s.p90Us(), s.p99Us(), s.perSecond(), s.failures());
        LatencyStats paddock = figures.paddock();
        List<LatencyStats> others = figures.others();
        for (int k = 0; k < others.size(); k++)
            out.printf(Locale.ROOT, "median ratio %s/%s: %.2f%s%n", paddock.name(), others.get(k).name(),
                    paddock.medianUs() / others.get(k).medianUs(), spread(figures.roundMedianRatios(k + 1)));
        for (int k = 0; k < others.size(); k++)
            out.printf(Locale.ROOT, "throughput ratio %s/%s: %.2f%s%n", paddock.name(), others.get(k).name(),
                    paddock.perSecond() / others.get(k).perSecond(), spread(figures.roundThroughputRatios(k + 1)));
        out.flush();
    }

    private static String spread(double[] perRound) {
        return String.format(Locale.ROOT, " (rounds %.2f to %.2f)", Arrays.stream(perRound).min().orElse(0),
                Arrays.stream(perRound).max().orElse(0));
    }

    /** The figures as JSON: the header's fields, then subjects and paddock's ratios, over the run and per round. */
    static String toJson(Map<String, Object> header, Figures figures) {
        Map<String, Object> root = new LinkedHashMap<>(header);
        root.put("rounds", figures.rounds().size());
        root.put("subjects", figures.total().stream().map(LatencyStats::toMap).toList());
        LatencyStats paddock = figures.paddock();
        List<LatencyStats> others = figures.others();
        Map<String, Object> medians = new LinkedHashMap<>();
        Map<String, Object> throughput = new LinkedHashMap<>();
        Map<String, Object> roundMedians = new LinkedHashMap<>();
        Map<String, Object> roundThroughput = new LinkedHashMap<>();
        for (int k = 0; k < others.size(); k++) {
            String key = paddock.name() + "/" + others.get(k).name();
            medians.put(key, round3(paddock.medianUs() / others.get(k).medianUs()));
            throughput.put(key, round3(paddock.perSecond() / others.get(k).perSecond()));
            roundMedians.put(key, Arrays.stream(figures.roundMedianRatios(k + 1)).mapToObj(BenchHarness::round3).toList());
            roundThroughput.put(key, Arrays.stream(figures.roundThroughputRatios(k + 1)).mapToObj(BenchHarness::round3).toList());
        }
        root.put("median_ratios", medians);
        root.put("throughput_ratios", throughput);
        root.put("round_median_ratios", roundMedians);
        root.put("round_throughput_ratios", roundThroughput);
        return Json.write(root);
    }

    private static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
