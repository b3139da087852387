package dev.paddock.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One platform thread per {@link dev.paddock.Paddock} that watches every
 * launcher's status pipe (or keeper's socket) with epoll, so that no thread per action is needed
 * and no caller's (virtual) thread blocks in native code while it waits.
 */
public final class Supervisor implements AutoCloseable {
    private static final int MAX_EVENTS = 64;

    private final int epollFd;
    private final int wakeFd;
    private final Map<Integer, LaunchedExecution> byStatusFd = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean closing;

    public Supervisor() throws Native.ErrnoException {
        epollFd = Native.epollCreate();
        wakeFd = Native.eventFd();
        Native.epollControl(epollFd, Native.EPOLL_CTL_ADD, wakeFd);
        thread = Thread.ofPlatform().name("paddock-supervisor").daemon(true).unstarted(this::run);
        thread.start();
    }

    void watch(LaunchedExecution execution) throws Native.ErrnoException {
        byStatusFd.put(execution.statusFd(), execution);
        Native.epollControl(epollFd, Native.EPOLL_CTL_ADD, execution.statusFd());
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment events = arena.allocate(Native.EPOLL_EVENT_SIZE * MAX_EVENTS, 8);
            MemorySegment buffer = arena.allocate(65536);
            MemorySegment state = Native.allocateCallState(arena);
            while (!(closing && byStatusFd.isEmpty())) {
                int n = Native.epollWait(epollFd, events, state);
                for (int i = 0; i < n; i++) {
                    int fd = Native.epollEventFd(events, i);
                    if (fd == wakeFd) {
                        Native.read(wakeFd, buffer.asSlice(0, 8), state);
                        continue;
                    }
                    try {
                        follow(fd, buffer, state);
                    } catch (Native.ErrnoException | RuntimeException e) {
                        // One action's trouble must not stop the thread every other action relies on.
                        System.err.println("paddock: supervisor: status fd " + fd + ": " + e);
                    }
                }
            }
        } catch (Native.ErrnoException | RuntimeException e) {
            System.err.println("paddock: supervisor thread failed: " + e);
        }
    }

    private void follow(int fd, MemorySegment buffer, MemorySegment state) throws Native.ErrnoException {
        LaunchedExecution execution = byStatusFd.get(fd);
        if (execution == null) { // cannot happen; never spin on an fd nobody owns
            Native.epollControl(epollFd, Native.EPOLL_CTL_DEL, fd);
            return;
        }
        if (!execution.readStatus(buffer, state)) {
            // Forget the fd before its execution closes it or gives the keeper back: then a
            // concurrent spawn may get the same number (or keeper) and register it anew.
            byStatusFd.remove(fd);
            try {
                Native.epollControl(epollFd, Native.EPOLL_CTL_DEL, fd);
            } finally { // whatever epoll says, the outcome must complete
                execution.onLauncherExit();
            }
        }
    }

    /** Stops the thread once every watched launcher has exited, and waits for it. */
    @Override
    public void close() throws InterruptedException {
        closing = true;
        Native.signalEventFd(wakeFd);
        thread.join();
        Native.close(wakeFd);
        Native.close(epollFd);
    }
}
