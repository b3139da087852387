package dev.paddock.internal;

import dev.paddock.Execution;
import dev.paddock.Outcome;
import dev.paddock.Pty;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One action as seen from the JVM. The thread following its status pipe feeds it the status
 * bytes and tells it when the pipe reaches EOF (the one-shot launcher, or the spawn server's
 * keeper, has exited); it then completes.
 */
public final class LaunchedExecution implements Execution {
    /** User callbacks never run on the supervisor thread. */
    private static final Executor CALLBACKS = Executors.newVirtualThreadPerTaskExecutor();
    /** The launcher's largest status record (status.h), with room to spare. */
    static final int RECORD_BUFFER = 16384;

    /**
     * How the action's supervising process is reached: a one-shot launcher the JVM spawned (and
     * reaps), or a keeper of the spawn server, holding a request.
     */
    static final class Control {
        private final int launcherPid;                 // one-shot, else -1
        private final SpawnServer server;              // served, else null
        private final SpawnServer.Request request;     // served, else null

        private Control(int launcherPid, SpawnServer server, SpawnServer.Request request) {
            this.launcherPid = launcherPid;
            this.server = server;
            this.request = request;
        }
    }

    static Control oneShot(int launcherPid) {
        return new Control(launcherPid, null, null);
    }

    static Control served(SpawnServer server, SpawnServer.Request request) {
        return new Control(-1, server, request);
    }

    private final Control control;
    private final int statusFd;
    private final OutputStream stdin;
    private final InputStream stdout;
    private final InputStream stderr;
    private final Pty pty;
    private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    private final ByteArrayOutputStream partialLine = new ByteArrayOutputStream();
    private Map<String, Object> lastRecord; // the following thread only
    private final List<Map<String, Object>> sandboxNotes = new ArrayList<>(); // the following thread only
    private final Object reapLock = new Object();
    private boolean reaped; // guarded by reapLock: once true, the pid may belong to someone else

    LaunchedExecution(Control control, int statusFd, OutputStream stdin, InputStream stdout, InputStream stderr,
            Pty pty) {
        this.control = control;
        this.statusFd = statusFd;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.pty = pty;
    }

    int statusFd() {
        return statusFd;
    }

    /**
     * Reads what the status fd holds; false at its end, when the caller (the one thread following
     * it) stops watching it and calls {@link #onLauncherExit()}. A spawn server's action ends with
     * its final record: its keeper has nothing more to say, and reads the next request from the
     * same socket. A one-shot launcher's pipe ends at EOF. buffer must hold one whole record
     * (status.h: 8 KiB): on a keeper's socket each record is one message.
     */
    boolean readStatus(MemorySegment buffer, MemorySegment state) {
        if (control.server != null && lastRecord != null) return false;
        int got;
        try {
            got = Native.read(statusFd, buffer, state);
        } catch (Native.ErrnoException e) {
            got = 0; // an unreadable status pipe ends like EOF; the wait status still tells
        }
        if (got <= 0) return false;
        onStatusData(buffer.asSlice(0, got).toArray(ValueLayout.JAVA_BYTE));
        return control.server == null || lastRecord == null;
    }

    /** Status bytes from the launcher; called by the one thread following the pipe. */
    private void onStatusData(byte[] bytes) {
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != '\n') continue;
            partialLine.write(bytes, start, i - start);
            String line = partialLine.toString(StandardCharsets.UTF_8);
            partialLine.reset();
            start = i + 1;
            if (line.isBlank()) continue;
            try {
                Map<String, Object> record = Json.parseObject(line);
                StatusRecord type = StatusRecord.of(record).orElse(null);
                if (type == StatusRecord.OVERLAY || type == StatusRecord.DEGRADED) sandboxNotes.add(record);
                else if (type != StatusRecord.SPAWNED) lastRecord = record;
            } catch (IllegalArgumentException e) {
                // A line we cannot read must not hide the outcome; the wait status still tells.
            }
        }
        partialLine.write(bytes, start, bytes.length - start);
    }

    /**
     * Follows the status pipe on the calling platform thread until the launcher exits, instead of
     * the supervisor thread: a synchronous run then costs no hand-off between threads. Polls in
     * 100 ms slices to notice an interrupt, and then hands the pipe to the supervisor.
     */
    public Outcome follow(Supervisor supervisor) throws InterruptedException, IOException {
        try (Arena arena = Arena.ofConfined()) {
            // A whole record fits; larger would cost fresh pages per spawn.
            MemorySegment buffer = arena.allocate(RECORD_BUFFER);
            MemorySegment pollfd = arena.allocate(8);
            MemorySegment state = Native.allocateCallState(arena);
            for (;;) {
                if (Thread.interrupted()) {
                    supervisor.watch(this);
                    throw new InterruptedException();
                }
                if (!Native.pollReadable(statusFd, 100, pollfd, state)) continue;
                if (!readStatus(buffer, state)) {
                    onLauncherExit();
                    return outcome.join();
                }
            }
        }
    }

    /**
     * The status records have ended: the launcher has exited, or the keeper is done with this
     * action. Called by the one thread following them, which no longer watches the fd: the pipe
     * is closed here, the keeper's socket given back.
     */
    void onLauncherExit() {
        if (control.server != null) {
            // A keeper that reported a last record is fit for the next action, unless its server died.
            control.server.finished(control.request,
                    lastRecord != null && !Boolean.TRUE.equals(StatusRecord.Field.OWNER_LOST.in(lastRecord)));
            outcome.complete(StatusRecords.servedOutcome(lastRecord, sandboxNotes));
            return;
        }
        Native.close(statusFd);
        Outcome result;
        try {
            int wait;
            synchronized (reapLock) {
                wait = Native.waitpid(control.launcherPid);
                reaped = true;
            }
            result = StatusRecords.outcome(lastRecord, sandboxNotes, wait);
        } catch (IOException | RuntimeException e) {
            result = StatusRecords.outcome(lastRecord, sandboxNotes, 125 << 8);
        }
        outcome.complete(result);
    }

    @Override
    public OutputStream stdin() {
        if (stdin == null) throw new IllegalStateException("stdin was not Stdio.pipe()");
        return stdin;
    }

    @Override
    public InputStream stdout() {
        if (stdout == null) throw new IllegalStateException("stdout was not Stdio.pipe()");
        return stdout;
    }

    @Override
    public InputStream stderr() {
        if (stderr == null) throw new IllegalStateException("stderr was not Stdio.pipe()");
        return stderr;
    }

    @Override
    public Pty pty() {
        if (pty == null) throw new IllegalStateException("the action was not started with a pty");
        return pty;
    }

    @Override
    public Outcome await() throws InterruptedException {
        try {
            return outcome.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public Optional<Outcome> await(Duration timeout) throws InterruptedException {
        try {
            return Optional.of(outcome.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public CompletableFuture<Outcome> onExit() {
        return onExit(CALLBACKS);
    }

    @Override
    public CompletableFuture<Outcome> onExit(Executor executor) {
        return outcome.thenApplyAsync(o -> o, executor);
    }

    /** The outcome future itself, completed on the supervisor thread: for paddock's own quick bookkeeping only. */
    public CompletableFuture<Outcome> outcomeFuture() {
        return outcome;
    }

    @Override
    public void cancel() {
        signalLauncher(Native.SIGTERM);
    }

    @Override
    public void interrupt() {
        signalLauncher(Native.SIGINT);
    }

    /** The launcher turns SIGTERM, SIGINT or SIGHUP into that signal -> grace -> SIGKILL for the whole tree. */
    private void signalLauncher(int signal) {
        if (control.server != null) {
            if (!outcome.isDone()) control.server.signal(control.request, signal);
            return;
        }
        synchronized (reapLock) {
            if (reaped) return;
            try {
                Native.kill(control.launcherPid, signal);
            } catch (Native.ErrnoException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public boolean isDone() {
        return outcome.isDone();
    }
}
