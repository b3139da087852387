package dev.paddock.remote;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * At most {@code limit} tasks hold a slot at once; further tasks wait in order and start, on the
 * thread that frees a slot, when one is done. No thread waits meanwhile.
 */
final class Slots {
    private final int limit;
    private final Deque<Runnable> waiting = new ArrayDeque<>();
    private int held;

    Slots(int limit) {
        if (limit < 1) throw new IllegalArgumentException("at least one slot, not " + limit);
        this.limit = limit;
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

    /** Frees a slot: the next waiting task, if any, takes it and runs on this thread. */
    void done() {
        Runnable next;
        synchronized (this) {
            next = waiting.pollFirst();
            if (next == null) held--;
        }
        if (next != null) next.run();
    }
}
