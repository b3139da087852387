package dev.paddock.cli;

import dev.paddock.Sandbox;
import dev.paddock.remote.RunnerServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code paddock runner}: Buildbarn's runner protocol, every action in paddock's sandbox. */
@Command(
        name = "runner",
        mixinStandardHelpOptions = true,
        description = {
            "Serve Buildbarn's runner protocol (buildbarn.runner.Runner: CheckReadiness,",
            "Run) so that bb_worker runs its actions through paddock: each action in the",
            "rootless sandbox with its input root as /, a fresh /proc, a minimal /dev,",
            "its temporary directory as /tmp, the host's system directories and --ro",
            "toolchains read-only, loopback-only network, no capabilities, and its whole",
            "process tree killed when it ends or its call is cancelled.",
            "",
            "Request paths are relative to --build-directory, which must be the build",
            "directory bb_worker lays input roots out in. One line is logged per action;",
            "SIGTERM (or Ctrl-C) stops the runner and kills the running actions.",
        },
        footer = {
            "",
            "Examples:",
            "  paddock runner --listen unix:/worker/runner --build-directory /worker/build",
            "  # bb_worker.jsonnet: runners: [{ endpoint: { address: 'unix:///worker/runner' }, ... }]",
            "",
            "docs/scale-out.md has the whole bb_worker configuration.",
        })
final class RunnerCommand implements Callable<Integer> {
    @Option(names = "--listen", paramLabel = "unix:PATH|HOST:PORT", required = true, description =
            "Where bb_worker connects: a unix socket (unix:PATH, the usual way; a stale socket there is " +
            "replaced) or a TCP address.")
    String listen;

    @Option(names = "--socket-mode", paramLabel = "OCTAL", defaultValue = "0600", description =
            "The unix socket's permissions (default ${DEFAULT-VALUE}: only this user; 0660 lets the " +
            "socket's group, bb_worker's, connect).")
    String socketMode;

    @Option(names = "--build-directory", paramLabel = "DIR", description =
            "The directory request paths are relative to: bb_worker's build directory (default: the " +
            "current directory). The mount points the runner removes from input roots wait in a " +
            ".paddock-trash-* directory there until a thread of the runner's deletes them.")
    Path buildDirectory;

    @Option(names = "--concurrency", paramLabel = "N", description =
            "Run at most N actions at once; further calls wait (default: one per CPU). Match " +
            "bb_worker's concurrency.")
    Integer concurrency;

    @Option(names = "--ro", paramLabel = "DIR", description =
            "Also show actions host directory DIR read-only at the same path, such as a toolchain " +
            "(repeatable).")
    List<Path> readOnly = List.of();

    @Option(names = "--no-system-directories", description =
            "Do not show actions the host's /usr, /bin, /lib*, /etc: only the input root and --ro " +
            "directories (for input roots that bring their own toolchains).")
    boolean noSystemDirectories;

    @Option(names = "--network", paramLabel = "none|loopback|shared|host", defaultValue = "loopback", description =
            "The actions' network: loopback (own namespace with only lo; the default), none, " +
            "shared (one loopback namespace for all: cheaper, but actions see each other on lo) " +
            "or host.")
    String network;

    @Option(names = "--sandbox", paramLabel = "auto|required", defaultValue = "auto", description =
            "auto (the default): degrade a step where the host refuses it, and say so in the " +
            "action's server logs; required: fail such actions with the cause instead.")
    String sandbox;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ExecutorService printer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "paddock-runner-log");
            t.setDaemon(true);
            return t;
        });
        RunnerServer.Builder b = RunnerServer.newBuilder()
                .network(OptionValues.enumOption(spec, Sandbox.Network.class, network, "--network"))
                .mode(OptionValues.enumOption(spec, Sandbox.Mode.class, sandbox, "--sandbox"))
                .systemDirectories(!noSystemDirectories)
                .log(line -> {
                    // Printed by a thread of its own: a slow terminal or full pipe must not hold up answers.
                    LocalTime at = LocalTime.now();
                    printer.execute(() -> {
                        out.println(at.truncatedTo(ChronoUnit.MILLIS).format(DateTimeFormatter.ISO_LOCAL_TIME) + " " + line);
                        out.flush();
                    });
                });
        Optional<Path> socket = OptionValues.unixSocket(spec, listen, "--listen");
        if (socket.isPresent()) b.unixSocket(socket.get()).socketMode(OptionValues.socketMode(spec, socketMode));
        else if (spec.commandLine().getParseResult().hasMatchedOption("--socket-mode"))
            throw new CommandLine.ParameterException(spec.commandLine(), "--socket-mode applies to a unix socket "
                    + "(--listen unix:PATH), not to " + listen);
        else b.listen(OptionValues.address(spec, listen, "--listen"));
        if (buildDirectory != null) b.buildDirectory(buildDirectory);
        if (concurrency != null) {
            if (concurrency < 1) throw new CommandLine.ParameterException(spec.commandLine(),
                    "--concurrency must be at least 1, not " + concurrency);
            b.concurrency(concurrency);
        }
        for (Path p : readOnly) b.readOnly(p);

        CountDownLatch stopped = new CountDownLatch(1);
        try (RunnerServer runner = b.build()) {
            int port = runner.start();
            out.println("paddock runner: listening on " + (listen.startsWith("unix:") ? listen
                    : runner.address().toString().replaceFirst(":\\d+$", "") + ":" + port)
                    + " (buildbarn.runner.Runner), build directory "
                    + (buildDirectory == null ? Path.of("").toAbsolutePath() : buildDirectory.toAbsolutePath())
                    + ", concurrency " + (concurrency == null ? Runtime.getRuntime().availableProcessors() : concurrency));
            out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                out.println("paddock runner: stopping: killing running actions");
                out.flush();
                try {
                    runner.close();
                    printer.shutdown(); // the cancelled actions' lines still print
                    printer.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                stopped.countDown();
            }, "paddock-runner-stop"));
            runner.awaitTermination();
            stopped.await();
        }
        return 0;
    }

}
