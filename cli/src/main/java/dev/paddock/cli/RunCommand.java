package dev.paddock.cli;

import dev.paddock.Action;
import dev.paddock.Execution;
import dev.paddock.Outcome;
import dev.paddock.Paddock;
import dev.paddock.Stdio;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sun.misc.Signal;

@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Run a command contained and exit with its status.",
            "",
            "The command runs in its own session and process group and sees only fds 0-2.",
            "When it exits, times out or is interrupted, its whole process tree is killed,",
            "including daemons that called setsid or double-forked. Output streams live.",
        },
        footer = {
            "",
            "Exit status (as GNU timeout and env):",
            "  the command's own status; 128+N if it was killed by signal N;",
            "  124 timed out; 125 paddock failed (bad options, setup failure);",
            "  126 found but not executable; 127 not found.",
            "",
            "Examples:",
            "  paddock run -- make -j8",
            "  paddock run --timeout 10m --kill-grace 30s --json outcome.json -- ./ci-step.sh",
            "  paddock run --cwd build --env CC=clang -- ninja",
        })
final class RunCommand implements Callable<Integer> {
    static final int EXIT_PADDOCK_FAILED = 125;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Durations.class,
            description = "SIGTERM the process tree after DURATION (e.g. 30s, 1.5s, 200ms, 10m); exit 124.")
    Duration timeout;

    @Option(names = "--kill-grace", paramLabel = "DURATION", converter = Durations.class,
            description = "How long after SIGTERM to send SIGKILL (default: ${DEFAULT-VALUE}).", defaultValue = "5s")
    Duration killGrace;

    @Option(names = "--cwd", paramLabel = "DIR", description = "Run the command in DIR.")
    Path cwd;

    @Option(names = "--env", paramLabel = "NAME=VALUE", description = "Set an environment variable (repeatable).")
    List<String> env = List.of();

    @Option(names = "--json", paramLabel = "FILE", description = "Write the outcome record (JSON) to FILE.")
    Path json;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The command and its arguments (after --).")
    List<String> command;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (timeout != null && timeout.isZero())
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be longer than 0");
        Action.Builder action = Action.newBuilder(command)
                .killGrace(killGrace)
                .timeout(timeout)
                .stdin(Stdio.inherit())
                .stdout(Stdio.inherit())
                .stderr(Stdio.inherit());
        if (cwd != null) action.directory(cwd);
        for (String assignment : env) {
            int eq = assignment.indexOf('=');
            if (eq <= 0)
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--env needs NAME=VALUE, got '" + assignment + "'");
            action.env(assignment.substring(0, eq), assignment.substring(eq + 1));
        }
        Outcome outcome;
        try (Paddock paddock = Paddock.create()) {
            Execution execution = paddock.start(action.build());
            // The launcher sits in its own process group; relay what the terminal or
            // a supervisor sends us, so the action gets the same signal.
            Signal.handle(new Signal("INT"), s -> execution.interrupt());
            Signal.handle(new Signal("TERM"), s -> execution.cancel());
            Signal.handle(new Signal("HUP"), s -> execution.cancel());
            outcome = execution.await();
        }
        var err = spec.commandLine().getErr();
        outcome.setupFailure().ifPresent(f -> err.println("paddock: " + f.describe()));
        if (outcome.timedOut())
            err.println("paddock: timed out after " + Durations.format(timeout) + "; the process tree was "
                    + (outcome.killedAfterGrace() ? "killed with SIGKILL after the " + Durations.format(killGrace)
                            + " grace period" : "terminated with SIGTERM"));
        if (json != null) Files.writeString(json, outcome.toJson() + "\n");
        return outcome.exitCode();
    }
}
