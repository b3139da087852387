package dev.paddock.remote;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;

/**
 * At most {@code limit} tasks hold a slot at once; further tasks wait in order and start on the
 * given executor when a slot is freed. No thread waits meanwhile.
 */
final class Slots {
    private final int limit;
    private final Executor starter;
    private final Deque<Runnable> waiting = new ArrayDeque<>();
    private int held;

    Slots(int limit, Executor starter) {
        if (limit < 1) throw new IllegalArgumentException("at least one slot, not " + limit);
        this.limit = limit;
        this.starter = starter;
    }

    /** Runs task now, holding a slot, or once one is free; the task calls {@link #done()} when it ends. */
    void submit(Runnable task) {
        synchronized (this) {
            if (held == limit) {
                waiting.addLast(task);
                return;
            }
            held++;
        }
        task.run();
    }

    /** Frees a slot: the next waiting task, if any, takes it and starts on the executor. Never blocks. */
    void done() {
        Runnable next;
        synchronized (this) {
            next = waiting.pollFirst();
            if (next == null) held--;
        }
        if (next != null) starter.execute(next);
    }
}
