package dev.paddock.cli;

import dev.paddock.internal.Json;
import dev.paddock.remote.RemoteServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code paddock bench remote}: Bazel builds a generated workspace of small genrules against
 * {@code paddock serve} (in this process) and locally in Bazel's own sandbox, cold and warm.
 */
@Command(
        name = "remote",
        mixinStandardHelpOptions = true,
        description = {
            "Build a generated Bazel workspace (100 genrules and a cc_binary of 50 C",
            "files, or N genrules) with Bazel (Debian's bazel-bootstrap) against",
            "paddock serve, started in this process on a free port, and locally in",
            "Bazel's linux-sandbox with a local disk cache. Each",
            "build follows 'bazel clean'. cold: --noremote_accept_cached, so every",
            "action runs; warm: every action is a cache hit. Rounds alternate between",
            "the two setups; the report gives median build times and paddock/local ratios.",
        },
        footer = {"", "Examples:", "  paddock bench remote --rounds 3 --json remote.json",
                "  paddock bench remote --shape genrules --actions 200 --jobs 16"})
final class RemoteBenchmark implements Callable<Integer> {
    @Option(names = "--shape", paramLabel = "mixed|genrules", defaultValue = "mixed", description =
            "mixed (the default): 100 genrules, a cc_binary of 50 C files (50 compiles and a link); genrules: "
            + "--actions genrules only.")
    String shape;

    @Option(names = "--actions", paramLabel = "N", defaultValue = "200", description = "Genrules in the genrules shape (default ${DEFAULT-VALUE}).")
    int actions;

    @Option(names = "--jobs", paramLabel = "N", description = "Bazel's --jobs for both setups (default: Bazel's own, one per CPU).")
    Integer jobs;

    @Option(names = "--rounds", paramLabel = "R", defaultValue = "3", description = "Builds per setup and phase (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON to FILE.")
    Path json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (actions < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--actions must be at least 1");
        if (!shape.equals("mixed") && !shape.equals("genrules"))
            throw new CommandLine.ParameterException(spec.commandLine(), "--shape must be mixed or genrules, not '" + shape + "'");
        if (jobs != null && jobs < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--jobs must be at least 1");
        if (rounds < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--rounds must be at least 1");
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("paddock-bench-remote-");
        try {
            Path workspace = Files.createDirectories(dir.resolve("workspace"));
            BazelWorkspace.prepare(workspace, dir.resolve("stand-ins"));
            String what = writeWorkspace(workspace);
            try (RemoteServer server = RemoteServer.newBuilder().listen(new InetSocketAddress("127.0.0.1", 0))
                    .cacheDir(dir.resolve("serve-cache")).build()) {
                int port = server.start();
                Map<String, List<String>> setups = new LinkedHashMap<>();
                List<String> jobsFlag = jobs == null ? List.of() : List.of("--jobs=" + jobs);
                setups.put("paddock", concat(List.of("--remote_executor=grpc://127.0.0.1:" + port), jobsFlag));
                setups.put("local", concat(List.of("--spawn_strategy=linux-sandbox", "--disk_cache="
                        + dir.resolve("disk-cache")), jobsFlag));
                out.printf(Locale.ROOT, "building %s with Bazel: paddock serve (grpc://127.0.0.1:%d) and local"
                        + " (Bazel's linux-sandbox, disk cache), %d rounds of cold and warm builds%s%n", what, port, rounds,
                        jobs == null ? "" : ", --jobs=" + jobs);
                out.flush();
                Path outputRoot = dir.resolve("bazel-root");
                try {
                    // Untimed: load the workspace, fill both caches.
                    for (List<String> flags : setups.values()) bazel(outputRoot, workspace, flags, false);
                    Map<String, double[]> seconds = new LinkedHashMap<>();
                    for (String setup : setups.keySet())
                        for (String phase : List.of("cold", "warm")) seconds.put(setup + " " + phase, new double[rounds]);
                    for (int r = 0; r < rounds; r++)
                        for (Map.Entry<String, List<String>> s : setups.entrySet())
                            for (String phase : List.of("cold", "warm"))
                                seconds.get(s.getKey() + " " + phase)[r] = bazel(outputRoot, workspace, s.getValue(), phase.equals("cold"));
                    report(out, seconds);
                } finally {
                    run(outputRoot, workspace, List.of("shutdown"));
                }
            }
        } finally {
            deleteTree(dir);
        }
        return 0;
    }

    /** Writes the shape's BUILD (and C files); returns what it holds, for the report. */
    private String writeWorkspace(Path workspace) throws IOException {
        int genrules = shape.equals("mixed") ? MIXED_GENRULES : actions;
        StringBuilder build = new StringBuilder();
        for (int i = 0; i < genrules; i++)
            build.append(String.format(Locale.ROOT,
                    "genrule(name = \"a%d\", outs = [\"a%d.txt\"], cmd = \"echo %d | sha256sum > $@\")%n", i, i, i));
        if (shape.equals("genrules")) {
            Files.writeString(workspace.resolve("BUILD"), build);
            return genrules + " genrules";
        }
        // One cc_binary: each C file is a compile action, and the binary a link.
        StringBuilder main = new StringBuilder();
        List<String> srcs = new ArrayList<>();
        for (int i = 0; i < MIXED_COMPILES - 1; i++) {
            Files.writeString(workspace.resolve("f" + i + ".c"), String.format(Locale.ROOT,
                    "int f%d(int x) {%n    int s = 0;%n    for (int i = 0; i < x; i++) s += i * %d;%n    return s;%n}%n", i, i));
            main.append(String.format(Locale.ROOT, "int f%d(int x);%n", i));
            srcs.add("\"f" + i + ".c\"");
        }
        main.append("int main(void) {\n    int s = 0;\n");
        for (int i = 0; i < MIXED_COMPILES - 1; i++) main.append(String.format(Locale.ROOT, "    s += f%d(%d);%n", i, i));
        main.append("    return s == 0;\n}\n");
        Files.writeString(workspace.resolve("main.c"), main);
        srcs.add("\"main.c\"");
        build.append("cc_binary(name = \"app\", srcs = [").append(String.join(", ", srcs)).append("])\n");
        Files.writeString(workspace.resolve("BUILD"), build);
        return genrules + " genrules and a cc_binary of " + MIXED_COMPILES + " C files (" + (genrules + MIXED_COMPILES + 1)
                + " actions)";
    }

    private static final int MIXED_GENRULES = 100;
    private static final int MIXED_COMPILES = 50;

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private void report(PrintWriter out, Map<String, double[]> seconds) throws IOException {
        Map<String, Object> figures = new LinkedHashMap<>();
        out.printf(Locale.ROOT, "%-14s %10s%n", "build", "median s");
        for (Map.Entry<String, double[]> e : seconds.entrySet()) {
            double m = median(e.getValue());
            figures.put(e.getKey().replace(' ', '_') + "_s", m);
            out.printf(Locale.ROOT, "%-14s %10.2f%n", e.getKey(), m);
        }
        for (String phase : List.of("cold", "warm")) {
            double ratio = median(seconds.get("paddock " + phase)) / median(seconds.get("local " + phase));
            figures.put(phase + "_ratio_paddock_to_local", ratio);
            out.printf(Locale.ROOT, "%s: paddock / local = %.2f%n", phase, ratio);
        }
        out.flush();
        if (json != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("benchmark", "remote");
            doc.put("shape", shape);
            doc.put("actions", shape.equals("mixed") ? MIXED_GENRULES + MIXED_COMPILES + 1 : actions);
            doc.put("jobs", jobs);
            doc.put("rounds", rounds);
            doc.putAll(figures);
            Files.writeString(json, Json.write(doc) + "\n");
        }
    }

    /** One timed build after bazel clean; a failed build aborts the benchmark with Bazel's output. */
    private double bazel(Path outputRoot, Path workspace, List<String> flags, boolean cold) throws IOException, InterruptedException {
        run(outputRoot, workspace, List.of("clean"));
        List<String> args = new ArrayList<>(List.of("build"));
        args.addAll(flags);
        if (cold) args.add("--noremote_accept_cached");
        args.add("//:all");
        long start = System.nanoTime();
        run(outputRoot, workspace, args);
        return (System.nanoTime() - start) / 1e9;
    }

    private void run(Path outputRoot, Path workspace, List<String> args) throws IOException, InterruptedException {
        List<String> command = BazelWorkspace.command(outputRoot, false);
        command.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(command).directory(workspace.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run bazel (Debian: apt-get install bazel-bootstrap): " + e.getMessage(), e);
        }
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IOException("'" + String.join(" ", command) + "' failed:\n" + output);
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Bazel leaves read-only directories in its output root: make them writable, then remove everything. */
    private static void deleteTree(Path dir) throws IOException, InterruptedException {
        new ProcessBuilder("chmod", "-R", "u+rwX", "--", dir.toString()).inheritIO().start().waitFor();
        new ProcessBuilder("rm", "-rf", "--", dir.toString()).inheritIO().start().waitFor();
    }
}
