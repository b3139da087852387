package dev.paddock.cli;

import dev.paddock.Action;
import dev.paddock.Paddock;
import dev.paddock.Sandbox;
import dev.paddock.SpawnMode;
import dev.paddock.Stdio;
import dev.paddock.internal.NativeBinaries;
import java.io.File;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "spawn",
        mixinStandardHelpOptions = true,
        description = {
            "Spawn a command N times through paddock, java.lang.ProcessBuilder and a C",
            "posix_spawn baseline, in rounds that alternate between them (at most 500",
            "spawns per subject each, every other round in reverse order), and report",
            "median/p90/p99 latency, spawns per second, failures, and paddock's ratios",
            "to the others, with the lowest and highest round's.",
            "",
            "With --sandbox, the subjects are paddock with Sandbox.hostReadOnly() (the",
            "host read-only; fresh /proc, /dev and /tmp; the working directory",
            "writable), bubblewrap with the same namespaces and mounts, and a C baseline that",
            "clones into those namespaces and builds the same mounts itself. With",
            "--network shared, paddock and the C baseline join one empty network",
            "namespace instead of creating one per spawn; bwrap always creates one.",
        },
        footer = {"", "Examples:", "  paddock bench spawn -n 2000 -c 2 --json spawn.json",
                  "  paddock bench spawn --mode oneshot -n 2000 -c 8",
                  "  paddock bench spawn --sandbox --network shared -n 1000 -c 2"})
final class SpawnBenchmark implements Callable<Integer> {
    static final String PROCESS_BUILDER = "processbuilder";
    static final String C_POSIX_SPAWN = "c-posix-spawn";
    static final String BWRAP = "bwrap";
    static final String C_CLONE_SANDBOX = "c-clone-sandbox";

    @CommandLine.Mixin
    BenchOptions options;

    @Option(names = "--command", paramLabel = "PATH", defaultValue = "/bin/true",
            description = "The program to spawn, without arguments (default: ${DEFAULT-VALUE}).")
    String command;

    @Option(names = "--sandbox",
            description = "Compare sandboxed spawns: paddock, bwrap (bubblewrap) and a C clone baseline.")
    boolean sandbox;

    @Option(names = "--mode", paramLabel = "server|oneshot", defaultValue = "server",
            description = "How paddock starts actions: through its spawn server (the library's default) or one "
                    + "launcher process per spawn (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--network", paramLabel = "loopback|shared", defaultValue = "loopback",
            description = "With --sandbox: a fresh network namespace per spawn (loopback), or one shared empty "
                    + "namespace (shared) (default: ${DEFAULT-VALUE}).")
    String network;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!new File(command).canExecute())
            throw new CommandLine.ParameterException(spec.commandLine(), "--command " + command + " is not an executable file");
        SpawnMode spawnMode = switch (mode) {
            case "server" -> SpawnMode.SERVER;
            case "oneshot" -> SpawnMode.ONE_SHOT;
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--mode takes server or oneshot, not '" + mode + "'");
        };
        if (!network.equals("loopback") && !network.equals("shared"))
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--network takes loopback or shared, not '" + network + "'");
        boolean shared = network.equals("shared");
        if (shared && !sandbox)
            throw new CommandLine.ParameterException(spec.commandLine(), "--network shared needs --sandbox");
        List<String> bwrap = sandbox ? bwrapCommand() : List.of();
        PrintWriter out = spec.commandLine().getOut();
        try (Paddock paddock = Paddock.create(spawnMode)) {
            BenchHarness harness = options.harness(spec.commandLine(), paddock);
            Action.Builder action = Action.newBuilder(command).stdout(Stdio.discard()).stderr(Stdio.discard());
            if (sandbox) action.sandbox(shared
                    ? Sandbox.newBuilder(Sandbox.Base.HOST_READ_ONLY).network(Sandbox.Network.SHARED).build()
                    : Sandbox.hostReadOnly());
            Action paddockAction = action.build();
            Map<String, BenchHarness.Subject> subjects = new LinkedHashMap<>();
            subjects.put(BenchHarness.PADDOCK, n -> harness.measure(n, () -> paddock.run(paddockAction).succeeded()));
            if (sandbox) {
                // bwrap is spawned from the C harness, like c-posix-spawn: its figures carry no JVM overhead.
                subjects.put(BWRAP, n -> harness.measureC(NativeBinaries.C_SPAWN_BASELINE, n, bwrap));
                List<String> cloneArgs = new ArrayList<>();
                if (shared) cloneArgs.add("--shared-netns");
                cloneArgs.addAll(List.of("--bind", workingDirectory(), command));
                subjects.put(C_CLONE_SANDBOX, n -> harness.measureC(C_CLONE_SANDBOX, n, cloneArgs));
            } else {
                ProcessBuilder processBuilder = new ProcessBuilder(command)
                        .redirectInput(new File("/dev/null"))
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD);
                subjects.put(PROCESS_BUILDER, n -> harness.measure(n, () -> processBuilder.start().waitFor() == 0));
                subjects.put(C_POSIX_SPAWN, n -> harness.measureC(NativeBinaries.C_SPAWN_BASELINE, n, List.of(command)));
            }
            out.printf(Locale.ROOT, "spawning %s %d times per subject at concurrency %d, in %d alternating rounds "
                    + "after at least %s s of warm-up each, paddock in %s mode%s%n", command, options.spawns, options.concurrency,
                    harness.rounds(), options.warmupSeconds, mode, sandbox ? ", sandboxed, " + network + " network" : "");
            out.flush();
            BenchHarness.Figures figures = harness.run(subjects);
            BenchHarness.report(out, figures);
            Map<String, Object> subject = new LinkedHashMap<>();
            subject.put("command", command);
            subject.put("sandbox", sandbox);
            subject.put("mode", mode);
            if (sandbox) subject.put("network", network);
            options.writeJson("spawn", subject, figures);
            if (paddock.spawnMode() != spawnMode) {
                spec.commandLine().getErr().println("paddock bench: the spawn server did not start; paddock ran one-shot");
                return 1;
            }
            return figures.total().stream().anyMatch(s -> s.failures() > 0) ? 1 : 0;
        }
    }

    /** Sandbox.hostReadOnly() binds the action's working directory writable; so do the other subjects. */
    private static String workingDirectory() {
        return Path.of("").toAbsolutePath().toString();
    }

    /** The bubblewrap equivalent of Sandbox.hostReadOnly(), running the command. */
    private List<String> bwrapCommand() {
        String bwrap = BenchHarness.bwrap().orElseThrow(() -> new IllegalStateException("--sandbox compares paddock "
                + "with bubblewrap, but there is no bwrap in PATH=" + BenchHarness.searchPath()
                + " (install it: apt-get install bubblewrap)"));
        List<String> argv = new ArrayList<>(List.of(bwrap, "--unshare-all", "--die-with-parent", "--new-session",
                "--ro-bind", "/", "/"));
        // As Sandbox.hostReadOnly(): /run and /var/tmp empty (host services' sockets live there).
        for (String hidden : List.of("/run", "/var/tmp"))
            if (Files.isDirectory(Path.of(hidden), java.nio.file.LinkOption.NOFOLLOW_LINKS))
                argv.addAll(List.of("--tmpfs", hidden));
        argv.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                "--bind", workingDirectory(), workingDirectory(), command));
        return argv;
    }
}
