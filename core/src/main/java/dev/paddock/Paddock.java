package dev.paddock;

import dev.paddock.internal.LaunchedExecution;
import dev.paddock.internal.Launcher;
import dev.paddock.internal.Native;
import dev.paddock.internal.SpawnServer;
import dev.paddock.internal.Supervisor;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs {@link Action}s contained: each in its own session and process group,
 * seeing only its standard fds, and with its whole process tree killed when
 * it exits, times out, is cancelled, or when this JVM goes away.
 *
 * <p>By default actions start through a spawn server ({@link SpawnMode#SERVER}); {@link
 * #create(SpawnMode)} chooses. Create one per application and share it; it is safe from any number of
 * threads, virtual threads included. {@link #close()} stops everything it
 * started.
 *
 * <pre>{@code
 * try (Paddock paddock = Paddock.create()) {
 *     Outcome outcome = paddock.run(Action.newBuilder("make", "-j8")
 *             .timeout(Duration.ofMinutes(10)).build());
 *     System.exit(outcome.exitCode());
 * }
 * }</pre>
 */
public final class Paddock implements AutoCloseable {
    /** How long {@link #close()} lets cancelled actions end before killing them. */
    public static final Duration CLOSE_GRACE = Action.DEFAULT_KILL_GRACE.plusSeconds(1);

    private final int lifelineRead;
    private final int lifelineWrite; // never written: only its closing (or this JVM's death) matters
    private final Launcher.Shared shared;
    private final Supervisor supervisor;
    private final SpawnServer server; // null in one-shot mode
    private final Set<LaunchedExecution> running = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private Paddock(SpawnMode mode) throws IOException {
        int[] lifeline = Native.pipe();
        lifelineRead = lifeline[0];
        lifelineWrite = lifeline[1];
        int devNullRead = Native.open("/dev/null", Native.O_RDONLY, 0);
        int devNullWrite = Native.open("/dev/null", Native.O_WRONLY, 0);
        supervisor = new Supervisor();
        server = mode == SpawnMode.SERVER ? new SpawnServer(devNullRead, devNullWrite) : null;
        shared = new Launcher.Shared(lifelineRead, devNullRead, devNullWrite, supervisor, server);
    }

    /** A new instance in {@link SpawnMode#SERVER} mode, with its own lifeline and supervisor thread. */
    public static Paddock create() throws IOException {
        return create(SpawnMode.SERVER);
    }

    /** A new instance that starts its actions the given way. */
    public static Paddock create(SpawnMode mode) throws IOException {
        String os = System.getProperty("os.name", "");
        if (!os.equals("Linux")) throw new UnsupportedOperationException("paddock runs on Linux only, not " + os);
        return new Paddock(mode);
    }

    /** How actions start now: {@link SpawnMode#ONE_SHOT} if asked for, or if the spawn server could not start. */
    public SpawnMode spawnMode() {
        return server != null && server.available() ? SpawnMode.SERVER : SpawnMode.ONE_SHOT;
    }

    /** The spawn server's pid, or -1 (one-shot mode, or no action started yet): for diagnostics and tests. */
    public long spawnServerPid() {
        return server == null ? -1 : server.pid();
    }

    /**
     * Starts an action and returns at once. Throws IOException when paddock
     * itself cannot start it (a redirect file cannot be opened, the launcher
     * cannot be spawned); failures of the action's own setup, such as a
     * missing command, arrive as an {@link Outcome} with a {@link SetupFailure}.
     */
    public Execution start(Action action) throws IOException {
        if (closed) throw new IllegalStateException("this Paddock is closed");
        LaunchedExecution execution = Launcher.start(action, shared);
        track(execution);
        return execution;
    }

    private void track(LaunchedExecution execution) {
        running.add(execution);
        execution.outcomeFuture().whenComplete((o, t) -> running.remove(execution));
    }

    /**
     * Starts an action and waits for its outcome. A platform thread follows the action's status
     * itself (no hand-off from the supervisor thread); a virtual thread parks while the supervisor
     * does, so that it never blocks a carrier in native code.
     */
    public Outcome run(Action action) throws IOException, InterruptedException {
        if (Thread.currentThread().isVirtual()) return start(action).await();
        if (closed) throw new IllegalStateException("this Paddock is closed");
        LaunchedExecution execution = Launcher.startUnwatched(action, shared);
        track(execution);
        return execution.follow(supervisor);
    }

    /** Starts an action; the future completes with its outcome, or exceptionally if it cannot start. */
    public CompletableFuture<Outcome> runAsync(Action action) {
        try {
            return start(action).onExit();
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Cancels every running action (SIGTERM to each tree, SIGKILL after its
     * grace period), waits for them, and releases this instance's resources.
     * Actions still alive after {@link #CLOSE_GRACE} are killed outright by
     * closing the lifeline.
     */
    @Override
    public void close() throws InterruptedException {
        if (closed) return;
        closed = true;
        for (LaunchedExecution e : running) e.cancel();
        long deadline = System.nanoTime() + CLOSE_GRACE.toNanos();
        for (LaunchedExecution e : running) {
            long left = deadline - System.nanoTime();
            if (left <= 0) break;
            e.await(Duration.ofNanos(left));
        }
        Native.close(lifelineWrite); // every launcher still running sees EOF and kills its tree
        if (server != null) server.close(); // so does the spawn server, for all of its actions
        for (LaunchedExecution e : running) e.await();
        supervisor.close();
        Native.close(lifelineRead);
        Native.close(shared.devNullRead());
        Native.close(shared.devNullWrite());
    }
}
