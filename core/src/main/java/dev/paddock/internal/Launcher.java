package dev.paddock.internal;

import dev.paddock.Action;
import dev.paddock.Sandbox;
import dev.paddock.Stdio;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starts one action: through the {@link SpawnServer} when the Paddock has one, else by
 * posix_spawning a one-shot paddock-launch. Either way the JVM gets status records to follow: on
 * the keeper's socket, or on a pipe from the launcher.
 */
public final class Launcher {
    /** Where the launcher finds its status pipe and lifeline. */
    static final int STATUS_FD = 3;
    /** The launcher option that names the fd for paddock's status records (StatusRecord). */
    public static final String STATUS_FD_OPTION = "--status-fd";
    static final int LIFELINE_FD = 4;

    private Launcher() {}

    /**
     * What a {@link dev.paddock.Paddock} keeps for all its spawns; server is null in one-shot
     * mode.
     */
    public record Shared(int lifelineReadFd, int devNullRead, int devNullWrite, Supervisor supervisor,
            SpawnServer server) {}

    /** Starts an action whose status the supervisor thread follows. */
    public static LaunchedExecution start(Action action, Shared shared) throws IOException {
        LaunchedExecution execution = startUnwatched(action, shared);
        shared.supervisor().watch(execution);
        return execution;
    }

    /** Starts an action whose status the caller follows ({@link LaunchedExecution#follow}). */
    public static LaunchedExecution startUnwatched(Action action, Shared shared) throws IOException {
        List<Integer> childEnds = new ArrayList<>();   // closed in the JVM after the spawn
        List<Integer> parentEnds = new ArrayList<>();  // closed only if the spawn fails
        List<Native.FdMapping> fds = new ArrayList<>();
        boolean spawned = false;
        try {
            int[] stdin = null, stdout = null, stderr = null;
            Terminal.Pair pty = null;
            if (action.pty().isPresent()) {
                pty = Terminal.open(action.pty().get());
                parentEnds.add(pty.master());
                childEnds.add(pty.slave());
                for (int target = 0; target <= 2; target++) fds.add(new Native.FdMapping(pty.slave(), target));
            } else {
                stdin = connect(action.stdin(), 0, shared, childEnds, parentEnds, fds);
                stdout = connect(action.stdout(), 1, shared, childEnds, parentEnds, fds);
                stderr = connect(action.stderr(), 2, shared, childEnds, parentEnds, fds);
            }
            List<String> options = actionOptions(action);
            List<String> envp = environment(action);
            LaunchedExecution.Control control = null;
            int statusFd = -1;
            if (shared.server() != null) {
                int[] served = {source(fds, 0), source(fds, 1), source(fds, 2)};
                List<String> argv = new ArrayList<>(options.size() + 1);
                argv.add("paddock-launch");
                argv.addAll(options);
                try {
                    boolean sharedNetwork = action.sandbox().map(s -> s.network() == Sandbox.Network.SHARED)
                            .orElse(false);
                    SpawnServer.Request request = shared.server().spawn(argv, envp, served, sharedNetwork);
                    control = LaunchedExecution.served(shared.server(), request);
                    statusFd = request.statusFd();
                } catch (SpawnServer.NotServed e) {
                    // Runs one-shot below; the server said why once, if it cannot start.
                }
            }
            if (control == null) {
                int[] status = Native.pipe();
                parentEnds.add(status[0]);
                childEnds.add(status[1]);
                statusFd = status[0];
                fds.add(new Native.FdMapping(status[1], STATUS_FD));
                fds.add(new Native.FdMapping(shared.lifelineReadFd(), LIFELINE_FD));
                String launcher = NativeBinaries.path(NativeBinaries.LAUNCHER).toString();
                List<String> argv = new ArrayList<>(List.of(launcher, STATUS_FD_OPTION, Integer.toString(STATUS_FD),
                        "--lifeline-fd", Integer.toString(LIFELINE_FD)));
                argv.addAll(options);
                control = LaunchedExecution.oneShot(Native.spawn(launcher, argv, envp, fds));
            }
            spawned = true;
            for (int fd : childEnds) Native.close(fd);
            LaunchedExecution execution = new LaunchedExecution(control, statusFd,
                    stdin == null ? null : outputStream(stdin[0]),
                    stdout == null ? null : inputStream(stdout[0]),
                    stderr == null ? null : inputStream(stderr[0]),
                    pty == null ? null : new PtyMaster(pty.master()));
            return execution;
        } finally {
            if (!spawned) {
                for (int fd : childEnds) Native.close(fd);
                for (int fd : parentEnds) Native.close(fd);
            }
        }
    }

    /** The fd the action gets as target: the mapped source, or the JVM's own for an inherited stream. */
    private static int source(List<Native.FdMapping> fds, int target) {
        for (Native.FdMapping m : fds) if (m.target() == target) return m.source();
        return target;
    }

    /** The launcher options for an action, from its limits to its command (the same in both modes). */
    static List<String> actionOptions(Action action) {
        List<String> argv = new ArrayList<>();
        action.timeout().ifPresent(t -> {
            argv.add("--timeout");
            argv.add(millis(t));
        });
        argv.add("--kill-grace");
        argv.add(millis(action.killGrace()));
        if (action.pty().isPresent()) argv.add("--pty");
        argv.addAll(action.limits().launcherOptions());
        Optional<Sandbox> sandbox = action.sandbox();
        Path directory = action.directory()
                .or(() -> sandbox.flatMap(Sandbox::inputRootPath))
                .orElse(Path.of("")).toAbsolutePath();
        sandbox.ifPresent(s -> argv.addAll(s.launcherOptions(directory)));
        // A sandbox sets PWD, as bubblewrap does, unless the action's own environment is to be exact.
        if (sandbox.isPresent() && action.environment().filter(e -> !e.containsKey("PWD")).isPresent())
            argv.addAll(List.of("--unsetenv", "PWD"));
        if (action.directory().isPresent() || sandbox.isPresent()) {
            argv.add("--chdir"); // inside a sandbox the launcher's own directory is not there
            argv.add(sandbox.map(s -> s.directoryInside(directory)).orElse(directory).toString());
        }
        argv.add("--");
        argv.addAll(action.command());
        return argv;
    }

    /** Rounded up, so that a timeout of 0.1 ms is not 0 ("no timeout"). */
    private static String millis(Duration d) {
        long ms = d.toMillis();
        if (d.minusMillis(ms).isPositive()) ms++;
        return ms + "ms";
    }

    /** This JVM's environment never changes, so every action that inherits it shares one list. */
    private static final List<String> INHERITED_ENVIRONMENT = envp(System.getenv());

    private static List<String> environment(Action action) {
        return action.environment().map(Launcher::envp).orElse(INHERITED_ENVIRONMENT);
    }

    private static List<String> envp(Map<String, String> env) {
        List<String> envp = new ArrayList<>(env.size());
        env.forEach((k, v) -> envp.add(k + "=" + v));
        return List.copyOf(envp);
    }

    /**
     * Connects one standard stream. Returns the JVM's end of a pipe as
     * {fd}, or null when the JVM keeps no end.
     */
    private static int[] connect(Stdio stdio, int target, Launcher.Shared shared, List<Integer> childEnds,
                                 List<Integer> parentEnds, List<Native.FdMapping> fds) throws IOException {
        boolean input = target == 0;
        switch (stdio.kind()) {
            case INHERIT -> {
                return null;
            }
            case DISCARD -> {
                fds.add(new Native.FdMapping(input ? shared.devNullRead() : shared.devNullWrite(), target));
                return null;
            }
            case FILE, APPEND -> {
                String path = stdio.path().orElseThrow().toAbsolutePath().toString();
                int flags = input ? Native.O_RDONLY
                        : Native.O_WRONLY | Native.O_CREAT
                                | (stdio.kind() == Stdio.Kind.APPEND ? Native.O_APPEND : Native.O_TRUNC);
                int fd;
                try {
                    fd = Native.open(path, flags, 0666);
                } catch (Native.ErrnoException e) {
                    String which = switch (target) {
                        case 0 -> "stdin";
                        case 1 -> "stdout";
                        default -> "stderr";
                    };
                    throw new IOException("cannot open " + which + " " + (input ? "from " : "to ") + path + ": "
                            + Errno.name(e.errno()) + " (" + Errno.message(e.errno()) + ")", e);
                }
                childEnds.add(fd);
                fds.add(new Native.FdMapping(fd, target));
                return null;
            }
            case PIPE -> {
                int[] pipe = Native.pipe();
                int childEnd = input ? pipe[0] : pipe[1];
                int parentEnd = input ? pipe[1] : pipe[0];
                childEnds.add(childEnd);
                parentEnds.add(parentEnd);
                fds.add(new Native.FdMapping(childEnd, target));
                return new int[] {parentEnd};
            }
        }
        throw new IllegalStateException("unknown stdio kind " + stdio.kind());
    }

    /*
     * The JDK's file streams block in a way virtual threads can compensate
     * for; a raw fd becomes one by reopening it through /proc/self/fd, which
     * for a pipe yields a new descriptor of the same pipe.
     */
    private static InputStream inputStream(int fd) throws IOException {
        try {
            return new FileInputStream("/proc/self/fd/" + fd);
        } finally {
            Native.close(fd);
        }
    }

    private static OutputStream outputStream(int fd) throws IOException {
        try {
            return new FileOutputStream("/proc/self/fd/" + fd);
        } finally {
            Native.close(fd);
        }
    }
}
