package dev.paddock.cli;

import dev.paddock.Action;
import dev.paddock.Execution;
import dev.paddock.Limits;
import dev.paddock.Outcome;
import dev.paddock.Paddock;
import dev.paddock.Sandbox;
import dev.paddock.internal.Json;
import dev.paddock.Stdio;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
            "  paddock run --sandbox --ro /opt/toolchain --tmpfs /var/tmp -- make test",
            "  paddock run --sandbox=required --network none -- ./hermetic-test.sh",
            "  paddock run --sandbox --hermetic --ro /opt/jdk -- ./build.sh",
            "  paddock run --pty -- npm test",
            "  paddock run --sandbox --overlay /srv/base:/srv/patch:/opt/sdk -- ./configure",
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

    @Option(names = "--pty",
            description = "Run the command under a fresh pseudo-terminal (colours, progress bars and prompts "
                    + "behave as on a terminal). When stdin is a terminal: interactive, with your terminal "
                    + "in raw mode until paddock exits and the window size followed; otherwise the "
                    + "command's terminal output is copied to stdout.")
    boolean pty;

    @Option(names = "--memory", paramLabel = "SIZE", description = "Limit the memory each process may allocate "
            + "(RLIMIT_DATA: heap and private mappings; bytes, or with K, M, G or T). Past it an allocation fails.")
    String memory;

    @Option(names = "--processes", paramLabel = "N", description = "With --sandbox: at most N processes at once "
            + "(RLIMIT_NPROC in the sandbox's user namespace, and its pid namespace's pid_max on Linux 6.14+, "
            + "at least 301, which binds root too). Past it fork fails.")
    Integer processes;

    @Option(names = "--cpu-time", paramLabel = "DURATION", converter = Durations.class, description = "Limit "
            + "each process's CPU time (RLIMIT_CPU, whole seconds): SIGXCPU at the limit, SIGKILL a second later.")
    Duration cpuTime;

    @Option(names = "--file-size", paramLabel = "SIZE", description = "Limit the size of any file the command "
            + "writes (RLIMIT_FSIZE): a write past it fails with SIGXFSZ.")
    String fileSize;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the outcome record (JSON) to FILE.")
    Path json;

    @Option(names = "--sandbox", paramLabel = "MODE", arity = "0..1", fallbackValue = "auto", defaultValue = "off",
            description = "Run in a rootless sandbox: host / read-only, fresh /proc, /dev and /tmp, the working "
                    + "directory writable, loopback only, no capabilities. MODE auto (what --sandbox alone "
                    + "means): where the host refuses a part, degrade one step and say so (fresh /proc -> "
                    + "the host's /proc; kernel overlay -> fuse-overlayfs -> binds; no user namespaces -> "
                    + "Landlock: read-only but for the writable paths, no_new_privs). required: fail with "
                    + "the cause and the remedy instead. off: no sandbox (the default). Give MODE as "
                    + "--sandbox=MODE; put the command after --.")
    String sandbox;

    @Option(names = "--hermetic",
            description = "With --sandbox: show only the system directories (/usr, /bin, /lib*, /etc) "
                    + "read-only, the working directory (the input root) and what --ro, --rw, --tmpfs and "
                    + "--overlay declare; nothing else of the host.")
    boolean hermetic;

    @Option(names = "--tmpfs-size", paramLabel = "SIZE", description = "With --sandbox: the most each tmpfs "
            + "(/tmp, /dev/shm, --tmpfs ones) may hold: bytes, or with K, M, G or T (default 2G).")
    String tmpfsSize;

    @Option(names = "--no-seccomp",
            description = "With --sandbox: run without paddock's default seccomp filter, which otherwise refuses "
                    + "the kernel keyrings, nested namespaces, mounts, io_uring, bpf, perf_event_open and TIOCSTI "
                    + "(for a command that runs a sandbox of its own, say).")
    boolean noSeccomp;

    @Option(names = "--ro", paramLabel = "PATH[:DEST]", description = "With --sandbox: also show PATH read-only (at DEST).")
    List<String> readOnly = List.of();

    @Option(names = "--rw", paramLabel = "PATH[:DEST]", description = "With --sandbox: make PATH writable (at DEST).")
    List<String> writable = List.of();

    @Option(names = "--tmpfs", paramLabel = "PATH", description = "With --sandbox: an empty private tmpfs at PATH.")
    List<Path> tmpfs = List.of();

    @Option(names = "--overlay", paramLabel = "LOWER[:LOWER2...]:DEST",
            description = "With --sandbox: the union of the LOWER directories (first is lowest) at DEST; writes "
                    + "land in a private tmpfs and are discarded, the LOWERs stay unchanged.")
    List<String> overlays = List.of();

    @Option(names = "--overlay-impl", paramLabel = "auto|kernel|fuse|bind", defaultValue = "auto",
            description = "With --sandbox: how overlays are mounted. auto (the default) tries kernel overlayfs, "
                    + "then fuse-overlayfs, then read-only binds on a tmpfs, and says on stderr when it "
                    + "falls back; the others force one.")
    String overlayImpl;

    @Option(names = "--network", paramLabel = "none|loopback|shared|host", defaultValue = "loopback",
            description = "With --sandbox: loopback (own namespace with only lo up; the default), none (not "
                    + "even lo), shared (one namespace with lo up that every 'shared' action of this "
                    + "paddock joins: cheaper, but they see each other on lo) or host.")
    String network;

    @Option(names = "--hostname", paramLabel = "NAME", description = "With --sandbox: the hostname inside.")
    String hostname;

    @Option(names = "--uid", paramLabel = "UID", description = "With --sandbox: the uid inside (default: yours).")
    Integer uid;

    @Option(names = "--gid", paramLabel = "GID", description = "With --sandbox: the gid inside (default: yours).")
    Integer gid;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The command and its arguments (after --).")
    List<String> command;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (timeout != null && timeout.isZero())
            throw usage("--timeout must be longer than 0");
        Action.Builder action = Action.newBuilder(command)
                .killGrace(killGrace)
                .timeout(timeout)
                .stdin(Stdio.inherit())
                .stdout(Stdio.inherit())
                .stderr(Stdio.inherit());
        if (cwd != null) action.directory(cwd);
        Sandbox policy = sandboxPolicy();
        action.sandbox(policy);
        for (String assignment : env) {
            int eq = assignment.indexOf('=');
            if (eq <= 0)
                throw usage("--env needs NAME=VALUE, got '" + assignment + "'");
            action.env(assignment.substring(0, eq), assignment.substring(eq + 1));
        }
        if (pty) action.pty(PtyPassthrough.initialSize());
        action.limits(limits(policy != null));
        Outcome outcome;
        try (Paddock paddock = Paddock.create()) {
            Execution execution = paddock.start(action.build());
            // The launcher sits in its own process group; relay what the terminal or
            // a supervisor sends us, so the action gets the same signal.
            Signal.handle(new Signal("INT"), s -> execution.interrupt());
            Signal.handle(new Signal("TERM"), s -> execution.cancel());
            Signal.handle(new Signal("HUP"), s -> execution.cancel());
            try (PtyPassthrough passthrough = pty ? new PtyPassthrough(execution.pty()) : null) {
                outcome = execution.await();
                if (passthrough != null) passthrough.drain();
            }
        }
        var err = spec.commandLine().getErr();
        outcome.degradations().forEach(d -> err.println("paddock: sandbox degraded: " + d.describe()));
        outcome.setupFailure().ifPresent(f -> err.println("paddock: " + f.describe()));
        if (outcome.setupFailure().isPresent() && policy != null && outcome.exitCode() == EXIT_PADDOCK_FAILED)
            err.println("paddock: 'paddock doctor' shows what this host allows");
        outcome.limitExceeded().ifPresent(limit -> err.println("paddock: ended by " + outcome.signal().orElseThrow()
                + ": the command reached its " + (limit.equals("cpu-time") ? "--cpu-time" : "--file-size") + " limit"));
        if (outcome.timedOut())
            err.println("paddock: timed out after " + Durations.format(timeout) + "; the process tree was "
                    + (outcome.killedAfterGrace() ? "killed with SIGKILL after the " + Durations.format(killGrace)
                            + " grace period" : "terminated with SIGTERM"));
        if (json != null) {
            Map<String, Object> record = new LinkedHashMap<>(Json.parseObject(outcome.toJson()));
            record.put("sandbox", policy == null ? null : policy.describe());
            Files.writeString(json, Json.write(record) + "\n");
        }
        return outcome.exitCode();
    }

    private Limits limits(boolean sandboxed) {
        Limits.Builder b = Limits.newBuilder();
        if (memory != null) b.memoryBytes(OptionValues.size(spec, memory, "--memory"));
        if (processes != null) {
            if (!sandboxed) throw usage("--processes needs --sandbox: outside one, RLIMIT_NPROC counts every process "
                    + "of your user, paddock's own included");
            if (processes < 1) throw usage("--processes must be at least 1, not " + processes);
            b.processes(processes);
        }
        if (cpuTime != null) {
            if (cpuTime.isZero()) throw usage("--cpu-time must be longer than 0");
            b.cpuTime(cpuTime);
        }
        if (fileSize != null) b.fileSizeBytes(OptionValues.size(spec, fileSize, "--file-size"));
        return b.build();
    }

    /** The --sandbox policy, or null; sandbox-only options without --sandbox are a usage error. */
    private Sandbox sandboxPolicy() {
        boolean sandboxOptions = hermetic || noSeccomp || tmpfsSize != null || !readOnly.isEmpty() || !writable.isEmpty() || !tmpfs.isEmpty()
                || !overlays.isEmpty() || hostname != null || uid != null || gid != null
                || !network.equals("loopback") || !overlayImpl.equals("auto");
        Sandbox.Mode mode = switch (sandbox) {
            case "off" -> null;
            case "auto" -> Sandbox.Mode.AUTO;
            case "required" -> Sandbox.Mode.REQUIRED;
            default -> throw usage("--sandbox takes auto, required or off, not '" + sandbox
                    + "' (write --sandbox=MODE, and put the command after --)");
        };
        if (mode == null) {
            if (sandboxOptions)
                throw usage("--hermetic, --no-seccomp, --tmpfs-size, --ro, --rw, --tmpfs, --overlay, --overlay-impl, "
                        + "--network, --hostname, --uid and --gid need --sandbox");
            return null;
        }
        Sandbox.Builder b = Sandbox.newBuilder(hermetic ? Sandbox.Base.HERMETIC : Sandbox.Base.HOST_READ_ONLY)
                .mode(mode)
                .hostname(hostname)
                .network(choice("--network", network, Sandbox.Network.class))
                .overlayImpl(choice("--overlay-impl", overlayImpl, Sandbox.OverlayImpl.class))
                .defaultSeccompFilter(!noSeccomp);
        if (tmpfsSize != null) b.tmpfsBytes(OptionValues.size(spec, tmpfsSize, "--tmpfs-size"));
        if (uid != null) b.uid(uid);
        if (gid != null) b.gid(gid);
        try {
            for (String spec : readOnly) b.readOnly(source(spec), destination(spec));
            for (String spec : writable) b.writable(source(spec), destination(spec));
            for (Path path : tmpfs) b.tmpfs(path.toAbsolutePath());
            for (String spec : overlays) overlay(b, spec);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        return b.build();
    }

    /** --overlay LOWER[:LOWER2...]:DEST */
    private void overlay(Sandbox.Builder b, String spec) {
        List<String> parts = List.of(spec.split(":", -1));
        if (parts.size() < 2 || parts.stream().anyMatch(String::isEmpty))
            throw usage("--overlay needs LOWER[:LOWER2...]:DEST, got '" + spec + "'");
        Path dest = Path.of(parts.getLast());
        if (!dest.isAbsolute()) throw usage("the destination in --overlay '" + spec + "' must be absolute");
        List<Path> layers = new ArrayList<>();
        for (String layer : parts.subList(0, parts.size() - 1)) {
            Path p = Path.of(layer).toAbsolutePath();
            if (!Files.isDirectory(p)) throw usage("--overlay layer '" + p + "' is not a directory");
            layers.add(p);
        }
        b.overlay(layers, dest);
    }

    private <E extends Enum<E>> E choice(String option, String value, Class<E> type) {
        for (E e : type.getEnumConstants())
            if (e.name().equalsIgnoreCase(value)) return e;
        throw usage(option + " takes " + String.join(", ",
                Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase()).toList())
                + ", not '" + value + "'");
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private Path source(String pathAndDest) {
        int colon = pathAndDest.indexOf(':');
        Path source = Path.of(colon < 0 ? pathAndDest : pathAndDest.substring(0, colon)).toAbsolutePath();
        if (!Files.exists(source))
            throw usage("'" + source + "' does not exist");
        return source;
    }

    private Path destination(String pathAndDest) {
        int colon = pathAndDest.indexOf(':');
        Path dest = colon < 0 ? source(pathAndDest) : Path.of(pathAndDest.substring(colon + 1));
        if (!dest.isAbsolute())
            throw usage("the destination in '" + pathAndDest + "' must be absolute");
        return dest;
    }
}
