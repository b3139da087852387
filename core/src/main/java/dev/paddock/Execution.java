package dev.paddock;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A running action. Its outcome arrives independently of its output: an
 * action whose descendants keep a pipe open still completes, and its whole
 * tree is killed when it ends, so the pipes then reach end of file.
 * Safe to use from any thread, virtual threads included.
 */
public interface Execution {
    /** The action's stdin; only when it was {@link Stdio#pipe()}. Close it to send EOF. */
    OutputStream stdin();

    /** The action's stdout; only when it was {@link Stdio#pipe()}. */
    InputStream stdout();

    /** The action's stderr; only when it was {@link Stdio#pipe()}. */
    InputStream stderr();

    /** The action's pseudo-terminal; only when it was started with {@link Action.Builder#pty(PtySize)}. */
    Pty pty();

    /** Waits for the outcome. */
    Outcome await() throws InterruptedException;

    /** Waits at most timeout for the outcome. */
    Optional<Outcome> await(Duration timeout) throws InterruptedException;

    /**
     * Completes with the outcome; never completes exceptionally. Its dependent stages run on a
     * thread of paddock's own for callbacks, never on the thread that follows actions' status.
     */
    CompletableFuture<Outcome> onExit();

    /**
     * Completes with the outcome, on executor: {@code onExit(Runnable::run)} completes on the thread
     * that learned the outcome, saving the hand-over to another thread. That is paddock's supervisor
     * thread, which follows every action's status: its dependent stages must not block (no file or
     * network I/O, no waiting) and must hand anything longer to an executor of their own.
     */
    CompletableFuture<Outcome> onExit(Executor executor);

    /**
     * Asks the action to stop: SIGTERM to its whole tree, then SIGKILL after
     * its grace period. Does nothing once it has ended. Does not wait.
     */
    void cancel();

    /**
     * Like Ctrl-C: SIGINT to the action's whole tree, then SIGKILL after its
     * grace period if it is still running. Does nothing once it has ended.
     */
    void interrupt();

    /** Whether the outcome is known. */
    boolean isDone();
}
