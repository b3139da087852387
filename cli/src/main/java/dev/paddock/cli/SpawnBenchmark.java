package dev.paddock.cli;

import dev.paddock.Action;
import dev.paddock.Outcome;
import dev.paddock.Paddock;
import dev.paddock.Sandbox;
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
            "",
            "With --sandbox, the subjects are paddock with Sandbox.hostReadOnly(),",
            "bubblewrap with the same namespaces and mounts, and a C baseline that",
            "clones into those namespaces and builds the same mounts itself.",
        },
        footer = {"", "Examples:", "  paddock bench spawn -n 2000 -c 2 --json spawn.json",
                  "  paddock bench spawn --sandbox -n 1000 -c 2"})
final class SpawnBenchmark implements Callable<Integer> {
    static final String PADDOCK = "paddock";
    static final String PROCESS_BUILDER = "processbuilder";
    static final String C_POSIX_SPAWN = "c-posix-spawn";
    static final String BWRAP = "bwrap";
    static final String C_CLONE_SANDBOX = "c-clone-sandbox";
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

    @Option(names = "--sandbox",
            description = "Compare sandboxed spawns: paddock, bwrap (bubblewrap) and a C clone baseline.")
    boolean sandbox;

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
        List<String> bwrap = sandbox ? bwrapCommand() : List.of();
        PrintWriter out = spec.commandLine().getOut();
        try (Paddock paddock = Paddock.create()) {
            Action.Builder action = Action.newBuilder(command).stdout(Stdio.discard()).stderr(Stdio.discard());
            if (sandbox) action.sandbox(Sandbox.hostReadOnly());
            Action paddockAction = action.build();
            Map<String, Subject> subjects = new LinkedHashMap<>();
            subjects.put(PADDOCK, n -> measure(n, () -> paddock.run(paddockAction).succeeded()));
            if (sandbox) {
                // bwrap is spawned from the C harness, like c-posix-spawn: its figures carry no JVM overhead.
                subjects.put(BWRAP, n -> measureC(NativeBinaries.C_SPAWN_BASELINE, n, bwrap));
                subjects.put(C_CLONE_SANDBOX, n -> measureC(C_CLONE_SANDBOX, n, List.of(command)));
            } else {
                ProcessBuilder processBuilder = new ProcessBuilder(command)
                        .redirectInput(new File("/dev/null"))
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD);
                subjects.put(PROCESS_BUILDER, n -> measure(n, () -> processBuilder.start().waitFor() == 0));
                subjects.put(C_POSIX_SPAWN, n -> measureC(NativeBinaries.C_SPAWN_BASELINE, n, List.of(command)));
            }
            return run(out, subjects);
        }
    }

    @FunctionalInterface
    private interface Subject {
        Measurement measure(int n) throws Exception;
    }

    /** Warms every subject up (the JVM's code paths, caches), then measures them in alternating rounds. */
    private int run(PrintWriter out, Map<String, Subject> subjects) throws Exception {
        int warmup = Math.min(500, Math.max(50, spawns / 5));
        for (Subject subject : subjects.values()) subject.measure(warmup);
        out.printf(Locale.ROOT, "spawning %s %d times per subject at concurrency %d, in %d alternating rounds%s%n",
                command, spawns, concurrency, ROUNDS, sandbox ? ", sandboxed" : "");
        out.flush();
        Map<String, Samples> samples = new LinkedHashMap<>();
        subjects.keySet().forEach(name -> samples.put(name, new Samples()));
        for (int round = 0; round < ROUNDS; round++) {
            int n = spawns / ROUNDS + (round < spawns % ROUNDS ? 1 : 0);
            for (Map.Entry<String, Subject> subject : subjects.entrySet())
                samples.get(subject.getKey()).addAll(subject.getValue().measure(n));
        }
        List<LatencyStats> stats = new ArrayList<>();
        samples.forEach((name, s) -> stats.add(s.stats(name)));
        report(out, stats);
        if (json != null) Files.writeString(json, toJson(stats) + "\n");
        return stats.stream().anyMatch(s -> s.failures() > 0) ? 1 : 0;
    }

    /** The bubblewrap equivalent of Sandbox.hostReadOnly(), running the command. */
    private List<String> bwrapCommand() {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            Path bwrap = Path.of(dir.isEmpty() ? "." : dir, "bwrap");
            if (Files.isRegularFile(bwrap) && Files.isExecutable(bwrap))
                return List.of(bwrap.toString(), "--unshare-all", "--die-with-parent", "--new-session",
                        "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", command);
        }
        throw new IllegalStateException("--sandbox compares paddock with bubblewrap, but there is no bwrap in PATH="
                + path + " (install it: apt-get install bubblewrap)");
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

    /** A C baseline (a native program named baseline) measures itself, spawning command; we read its latencies. */
    private Measurement measureC(String baseline, int n, List<String> command) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(
                NativeBinaries.path(baseline).toString(), Integer.toString(n), Integer.toString(concurrency)));
        argv.addAll(command);
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT).start();
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
