package dev.paddock.cli;

import dev.paddock.Paddock;
import java.nio.file.Path;
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

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON to FILE.")
    Path json;

    /** Refuses counts the harness cannot use; returns the harness for them. */
    BenchHarness harness(CommandLine commandLine, Paddock paddock) {
        if (spawns < BenchHarness.ROUNDS)
            throw new CommandLine.ParameterException(commandLine, "-n must be at least " + BenchHarness.ROUNDS);
        if (concurrency < 1) throw new CommandLine.ParameterException(commandLine, "-c must be at least 1");
        return new BenchHarness(spawns, concurrency, paddock);
    }
}
