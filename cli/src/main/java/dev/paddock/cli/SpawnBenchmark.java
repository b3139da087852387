package dev.paddock.cli;

import dev.paddock.Action;
import dev.paddock.Outcome;
import dev.paddock.Paddock;
import dev.paddock.Stdio;
import dev.paddock.internal.Json;
import dev.paddock.internal.NativeBinaries;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "spawn",
        mixinStandardHelpOptions = true,
        description = {
            "Spawn a command N times through paddock, java.lang.ProcessBuilder and a C",
            "posix_spawn baseline, in rounds that alternate between them, and report",
            "median/p90/p99 latency, spawns per second, failures, and ratios.",
        },
        footer = {"", "Example:", "  paddock bench spawn -n 2000 -c 2 --json spawn.json"})
final class SpawnBenchmark implements Callable<Integer> {
    static final String PADDOCK = "paddock";
    static final String PROCESS_BUILDER = "processbuilder";
    static final String C_POSIX_SPAWN = "c-posix-spawn";
    private static final int ROUNDS = 5;

    @Option(names = {"-n", "--spawns"}, paramLabel = "N", defaultValue = "2000",
            description = "Spawns per subject (default: ${DEFAULT-VALUE}).")
    int spawns;

    @Option(names = {"-c", "--concurrency"}, paramLabel = "C", defaultValue = "1",
            description = "Spawning threads per subject (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON to FILE.")
    Path json;

    @Option(names = "--command", paramLabel = "PATH", defaultValue = "/bin/true",
            description = "The program to spawn, without arguments (default: ${DEFAULT-VALUE}).")
    String command;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One subject's measurements, accumulated over the rounds. */
    private static final class Samples {
        final List<long[]> latencies = new ArrayList<>();
        long failures;
        long wallNs;

        void addAll(Measurement m) {
            latencies.add(m.latencies());
            failures += m.failures();
            wallNs += m.wallNs();
        }

        LatencyStats stats(String name) {
            long[] all = latencies.stream().flatMapToLong(java.util.Arrays::stream).toArray();
            return LatencyStats.of(name, all, failures, wallNs);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (spawns < ROUNDS) throw new CommandLine.ParameterException(spec.commandLine(), "-n must be at least " + ROUNDS);
        if (concurrency < 1) throw new CommandLine.ParameterException(spec.commandLine(), "-c must be at least 1");
        if (!new File(command).canExecute())
            throw new CommandLine.ParameterException(spec.commandLine(), "--command " + command + " is not an executable file");
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Samples> samples = new LinkedHashMap<>();
        samples.put(PADDOCK, new Samples());
        samples.put(PROCESS_BUILDER, new Samples());
        samples.put(C_POSIX_SPAWN, new Samples());
        try (Paddock paddock = Paddock.create()) {
            Action action = Action.newBuilder(command).stdout(Stdio.discard()).stderr(Stdio.discard()).build();
            ProcessBuilder processBuilder = new ProcessBuilder(command)
                    .redirectInput(new File("/dev/null"))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD);
            int warmup = Math.min(500, Math.max(50, spawns / 5));
            measure(warmup, () -> paddock.run(action).succeeded());
            measure(warmup, () -> processBuilder.start().waitFor() == 0);
            out.printf(Locale.ROOT, "spawning %s %d times per subject at concurrency %d, in %d alternating rounds%n",
                    command, spawns, concurrency, ROUNDS);
            out.flush();
            for (int round = 0; round < ROUNDS; round++) {
                int n = spawns / ROUNDS + (round < spawns % ROUNDS ? 1 : 0);
                samples.get(PADDOCK).addAll(measure(n, () -> paddock.run(action).succeeded()));
                samples.get(PROCESS_BUILDER).addAll(measure(n, () -> processBuilder.start().waitFor() == 0));
                samples.get(C_POSIX_SPAWN).addAll(measureC(n));
            }
        }
        List<LatencyStats> stats = new ArrayList<>();
        samples.forEach((name, s) -> stats.add(s.stats(name)));
        report(out, stats);
        if (json != null) Files.writeString(json, toJson(stats) + "\n");
        return stats.stream().anyMatch(s -> s.failures() > 0) ? 1 : 0;
    }

    @FunctionalInterface
    private interface Spawn {
        boolean once() throws Exception;
    }

    private record Measurement(long[] latencies, long failures, long wallNs) {}

    private Measurement measure(int n, Spawn spawn) throws Exception {
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

    /** The C baseline measures itself; we read its latencies. */
    private Measurement measureC(int n) throws IOException, InterruptedException {
        Path baseline = NativeBinaries.path(NativeBinaries.C_SPAWN_BASELINE);
        Process p = new ProcessBuilder(baseline.toString(), Integer.toString(n), Integer.toString(concurrency), command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        long[] latencies = new long[n];
        long failures = n;
        long wall = 0;
        int count = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("failures ")) failures = Long.parseLong(line.substring(9).trim());
                else if (line.startsWith("wall_ns ")) wall = Long.parseLong(line.substring(8).trim());
                else if (count < n) latencies[count++] = Long.parseLong(line.trim());
            }
        }
        if (p.waitFor() != 0 || count != n) failures = Math.max(failures, n - count);
        return new Measurement(latencies, failures, wall);
    }

    private static void report(PrintWriter out, List<LatencyStats> stats) {
        out.printf(Locale.ROOT, "%-16s %8s %10s %10s %10s %12s %9s%n",
                "subject", "spawns", "median_us", "p90_us", "p99_us", "per_second", "failures");
        for (LatencyStats s : stats)
            out.printf(Locale.ROOT, "%-16s %8d %10.1f %10.1f %10.1f %12.1f %9d%n",
                    s.name(), s.spawns(), s.medianUs(), s.p90Us(), s.p99Us(), s.perSecond(), s.failures());
        LatencyStats paddock = stats.get(0);
        for (LatencyStats other : stats.subList(1, stats.size()))
            out.printf(Locale.ROOT, "median ratio paddock/%s: %.2f%n", other.name(), paddock.medianUs() / other.medianUs());
        out.flush();
    }

    private String toJson(List<LatencyStats> stats) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("benchmark", "spawn");
        root.put("command", command);
        root.put("spawns", spawns);
        root.put("concurrency", concurrency);
        root.put("subjects", stats.stream().map(LatencyStats::toMap).toList());
        Map<String, Object> ratios = new LinkedHashMap<>();
        for (LatencyStats other : stats.subList(1, stats.size()))
            ratios.put("paddock/" + other.name(), Math.round(stats.get(0).medianUs() / other.medianUs() * 1000) / 1000.0);
        root.put("median_ratios", ratios);
        return Json.write(root);
    }
}
