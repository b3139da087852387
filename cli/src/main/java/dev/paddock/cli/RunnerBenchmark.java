package dev.paddock.cli;

import buildbarn.runner.RunRequest;
import buildbarn.runner.RunnerGrpc;
import dev.paddock.Paddock;
import dev.paddock.Sandbox;
import dev.paddock.internal.NativeBinaries;
import dev.paddock.remote.RunnerServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(
        name = "runner",
        mixinStandardHelpOptions = true,
        description = {
            "Run /bin/true N times as a Buildbarn action: through paddock runner (a Run",
            "call over its unix socket, as bb_worker makes it), through paddock-launch",
            "started directly with the same sandbox options, and through bubblewrap with",
            "the same options, in alternating rounds, and report median/p90/p99 latency,",
            "actions per second, failures and the runner's ratios to the others.",
            "",
            "Each action gets an input root as /, the system directories read-only, a",
            "fresh /proc, a minimal /dev, its temporary directory as /tmp and loopback",
            "only. The launcher and bwrap are started from a C program (posix_spawn),",
            "so their figures carry no JVM overhead; the runner serves in this JVM.",
            "All actions share one input root, whose mount points are made up front.",
        },
        footer = {"", "Examples:", "  paddock bench runner -n 2000", "  paddock bench runner -n 2000 -c 4 --json runner.json"})
final class RunnerBenchmark implements Callable<Integer> {
    static final String LAUNCHER = "paddock-launch";
    /**
     * Options of the runner's sandbox that bwrap does not have, with how many values each takes: a
     * shared network namespace, the default seccomp filter, links refused in binds, the size of
     * /dev/shm.
     */
    static final Map<String, Integer> PADDOCK_ONLY = Map.of("--shared-netns", 0, "--default-seccomp", 0,
            "--refuse-symlinks", 0, "--shm-size", 1);

    /** The sandbox's options without those bwrap lacks. */
    static List<String> forBwrap(List<String> options) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < options.size(); i++) {
            Integer values = PADDOCK_ONLY.get(options.get(i));
            if (values != null) i += values;
            else out.add(options.get(i));
        }
        return out;
    }

    @CommandLine.Mixin
    BenchOptions options;

    @CommandLine.Option(names = "--network", paramLabel = "loopback|shared", defaultValue = "loopback",
            description = "The runner's --network: a fresh network namespace per action (loopback), or one "
                    + "shared loopback-only namespace (shared), which paddock-launch started on its own and "
                    + "bwrap cannot share: they create one per action either way (default: ${DEFAULT-VALUE}).")
    String network;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (!network.equals("loopback") && !network.equals("shared"))
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--network takes loopback or shared, not '" + network + "'");
        Sandbox.Network net = network.equals("shared") ? Sandbox.Network.SHARED : Sandbox.Network.LOOPBACK;
        String bwrap = BenchHarness.bwrap().orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(),
                "bench runner compares with bubblewrap, but there is no bwrap in PATH=" + BenchHarness.searchPath()
                        + " (install it: apt-get install bubblewrap)"));
        Path dir = Files.createTempDirectory("paddock-bench-runner");
        Path build = Files.createDirectories(dir.resolve("build"));
        Path root = Files.createDirectories(build.resolve("root"));
        Path tmp = Files.createDirectories(build.resolve("tmp"));
        Path socket = dir.resolve("runner.sock");
        EventLoopGroup loops = new EpollEventLoopGroup(2);
        try (Paddock paddock = Paddock.create();
                RunnerServer runner = RunnerServer.newBuilder().unixSocket(socket).buildDirectory(build)
                        .concurrency(options.concurrency).network(net).build()) {
            runner.start();
            // Calls complete on the channel's event loop, which wakes the calling thread once per call (a
            // blocking stub wakes it for each of the call's headers, message and close).
            ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loops).directExecutor()
                    .usePlaintext().build();
            try {
                BenchHarness harness = options.harness(spec.commandLine(), paddock);
                RunnerGrpc.RunnerFutureStub stub = RunnerGrpc.newFutureStub(channel);
                AtomicLong calls = new AtomicLong();
                // The sandbox the runner gives each action; the other subjects get the same options.
                Sandbox policy = Sandbox.inputRoot(root).systemDirectories().temporaryDirectory(tmp).network(net)
                        .build();
                // One input root serves every action, so its mount points are made once, up front: an action
                // must not remove them while another mounts on them. (With its own input root per action,
                // as bb_worker lays them out, the runner also removes the mount points it made.)
                paddock.run(dev.paddock.Action.newBuilder("/bin/true").directory(root).sandbox(policy).build());
                List<String> sandbox = policy.launcherOptions(root);
                List<String> launcher = new ArrayList<>(List.of(NativeBinaries.path(NativeBinaries.LAUNCHER).toString()));
                launcher.addAll(sandbox);
                launcher.addAll(List.of("--chdir", "/", "--", "/bin/true"));
                List<String> bwrapArgs = new ArrayList<>(List.of(bwrap, "--die-with-parent", "--new-session"));
                bwrapArgs.addAll(forBwrap(sandbox));
                bwrapArgs.addAll(List.of("--chdir", "/", "--", "/bin/true"));

                Map<String, BenchHarness.Subject> subjects = new LinkedHashMap<>();
                subjects.put("paddock-runner", n -> harness.measure(n, () -> {
                    // bb_worker names a fresh stdout and stderr file per action, in the action's own directory,
                    // which it removes afterwards. Here they are removed after the call (and the time that takes
                    // is counted): a directory that grew by two files per call would slow every creation in it.
                    long id = calls.incrementAndGet();
                    String stdout = "out-" + id, stderr = "err-" + id;
                    boolean exited = stub.withDeadlineAfter(60, TimeUnit.SECONDS).run(RunRequest.newBuilder()
                            .addArguments("/bin/true").putEnvironmentVariables("PATH", "/usr/bin:/bin")
                            .setInputRootDirectory("root").setTemporaryDirectory("tmp")
                            .setStdoutPath(stdout).setStderrPath(stderr).build()).get().getExitCode() == 0;
                    Files.delete(build.resolve(stdout));
                    Files.delete(build.resolve(stderr));
                    return exited;
                }));
                subjects.put(LAUNCHER, n -> harness.measureC(NativeBinaries.C_SPAWN_BASELINE, n, launcher));
                subjects.put(SpawnBenchmark.BWRAP, n -> harness.measureC(NativeBinaries.C_SPAWN_BASELINE, n, bwrapArgs));
                out.printf(Locale.ROOT, "running /bin/true %d times per subject at concurrency %d, in %d alternating "
                        + "rounds after at least %s s of warm-up each, runner network %s%n", options.spawns,
                        options.concurrency, harness.rounds(), options.warmupSeconds, network);
                out.flush();
                BenchHarness.Figures figures = harness.run(subjects);
                BenchHarness.report(out, figures);
                options.writeJson("runner", Map.of("command", "/bin/true", "network", network), figures);
                return figures.total().stream().anyMatch(s -> s.failures() > 0) ? 1 : 0;
            } finally {
                channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }
}
