package dev.paddock.cli;

import picocli.CommandLine.Command;

@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "Measure paddock against baselines in the same run.",
            "",
            "Figures are only comparable within one run: report ratios, not absolutes.",
        },
        subcommands = {SpawnBenchmark.class, PtyBenchmark.class, RemoteBenchmark.class, RunnerBenchmark.class})
final class BenchCommand {}
