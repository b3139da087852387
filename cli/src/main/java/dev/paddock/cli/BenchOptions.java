package dev.paddock.cli;

import dev.paddock.Paddock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options every `paddock bench` subcommand takes. */
final class BenchOptions {
    @Option(names = {"-n", "--spawns"}, paramLabel = "N", defaultValue = "2000",
            description = "Spawns per subject (default: ${DEFAULT-VALUE}).")
    int spawns;

    @Option(names = {"-c", "--concurrency"}, paramLabel = "C", defaultValue = "1",
            description = "Spawning threads per subject (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "3",
            description = "Spawn through each subject for at least this long, in alternating batches, before "
                    + "measuring, then on until three cycles of batches in a row spent under 1%% of their time in the JIT "
                    + "compiler (at most ten times as long; a subject whose batch kept the JIT compiling runs "
                    + "again within its cycle), "
                    + "so that the JVM has compiled its hot paths, as in a long-running build daemon "
                    + "(default: ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON to FILE.")
    Path json;

    /** Refuses counts the harness cannot use; returns the harness for them. */
    BenchHarness harness(CommandLine commandLine, Paddock paddock) {
        if (spawns < BenchHarness.MIN_ROUNDS)
            throw new CommandLine.ParameterException(commandLine, "-n must be at least " + BenchHarness.MIN_ROUNDS);
        if (concurrency < 1) throw new CommandLine.ParameterException(commandLine, "-c must be at least 1");
        if (!(warmupSeconds >= 0 && warmupSeconds <= 3600))
            throw new CommandLine.ParameterException(commandLine, "--warmup takes 0 to 3600 seconds, not " + warmupSeconds);
        return new BenchHarness(spawns, concurrency, Duration.ofMillis(Math.round(warmupSeconds * 1000)), paddock,
                commandLine.getOut());
    }

    /** With --json: the figures, after the benchmark's name, what it ran, and these options. */
    void writeJson(String benchmark, Map<String, Object> subject, BenchHarness.Figures figures) throws IOException {
        if (json == null) return;
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("benchmark", benchmark);
        header.putAll(subject);
        header.put("spawns", spawns);
        header.put("concurrency", concurrency);
        header.put("warmup_seconds", warmupSeconds);
        Files.writeString(json, BenchHarness.toJson(header, figures) + "\n");
    }
}
