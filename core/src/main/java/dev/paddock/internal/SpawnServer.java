package dev.paddock.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One {@code paddock-launch --server} per {@link dev.paddock.Paddock}, started on first use and
 * restarted when it has died. Requests go over a SOCK_SEQPACKET socket pair whose other end only
 * the server holds, so the socket is also its lifeline: when this JVM closes it or dies, the
 * server kills every action and exits. The wire format is in the launcher's server.h.
 */
public final class SpawnServer implements AutoCloseable {
    private static final int MAGIC = 0x314b4450;
    private static final int READY = 0x59444552;
    private static final int SPAWN = 1;
    private static final int SIGNAL = 2;
    private static final int HEADER_SIZE = 24;
    /** The server's limit on one request; a bigger one runs through a one-shot launcher. */
    static final int MAX_REQUEST = 256 * 1024;
    private static final int START_TIMEOUT_MILLIS = 10_000;

    /** The server cannot take this request (too large, or no server can start): run it one-shot. */
    static final class NotServed extends IOException {
        NotServed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final int devNullRead;
    private final int devNullWrite;
    private final AtomicLong ids = new AtomicLong();
    /* Senders share the read lock; replacing the socket takes the write lock, so that no fd
     * number is closed (and reused) while another thread is still sending on it. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private int socket = -1; // guarded by lock
    private int pid = -1;    // guarded by lock
    private boolean closed;  // guarded by lock
    private volatile IOException unavailable; // why no server could start; then it is never tried again

    public SpawnServer(int devNullRead, int devNullWrite) {
        this.devNullRead = devNullRead;
        this.devNullWrite = devNullWrite;
    }

    /**
     * Sends a spawn request: argv is a one-shot command line, fds the status pipe's write end
     * then the action's stdin, stdout and stderr. Starts the server first if none runs, and
     * once more if the running one turns out to be dead. Returns the request id.
     */
    long spawn(List<String> argv, List<String> envp, int[] fds) throws IOException {
        if (unavailable != null) throw new NotServed("no spawn server", unavailable);
        long id = ids.incrementAndGet();
        byte[] request = spawnRequest(id, argv, envp);
        if (request.length > MAX_REQUEST)
            throw new NotServed("spawn request of " + request.length + " bytes exceeds the spawn server's "
                    + MAX_REQUEST, null);
        for (int attempt = 0; ; attempt++) {
            int used;
            lock.readLock().lock();
            try {
                if (closed) throw new IllegalStateException("this Paddock is closed");
                used = socket;
                if (used >= 0) {
                    try {
                        Native.sendWithFds(used, request, fds);
                        return id;
                    } catch (Native.ErrnoException e) {
                        if (!peerGone(e) || attempt > 0) throw e;
                    }
                }
            } finally {
                lock.readLock().unlock();
            }
            replace(used);
        }
    }

    /** Passes SIGTERM, SIGINT or SIGHUP to the keeper of a request; nothing if it has ended. */
    void signal(long id, int signal) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.nativeOrder());
        b.putInt(MAGIC).putInt(SIGNAL).putLong(id).putInt(signal).putInt(0);
        lock.readLock().lock();
        try {
            if (socket >= 0) Native.sendWithFds(socket, b.array(), new int[0]);
        } catch (Native.ErrnoException e) {
            // The server is gone, and every action with it.
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The running server's pid, or -1 if none has started. */
    public int pid() {
        lock.readLock().lock();
        try {
            return pid;
        } finally {
            lock.readLock().unlock();
        }
    }

    private static boolean peerGone(Native.ErrnoException e) {
        return e.errno() == Native.EPIPE || e.errno() == Native.ECONNRESET || e.errno() == Native.ENOTCONN;
    }

    /** Starts a server unless another thread already replaced the one on socket {@code dead}. */
    private void replace(int dead) throws IOException {
        lock.writeLock().lock();
        try {
            if (closed) throw new IllegalStateException("this Paddock is closed");
            if (socket != dead) return;
            if (socket >= 0) {
                Native.close(socket);
                reapInBackground(pid);
                socket = -1;
                pid = -1;
            }
            try {
                start();
            } catch (IOException e) {
                unavailable = e;
                System.err.println("paddock: " + e.getMessage() + "; falling back to one launcher process per "
                        + "action (one-shot mode)");
                throw new NotServed("no spawn server", e);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** False once a server failed to start: every action then runs one-shot. */
    public boolean available() {
        return unavailable == null;
    }

    private void start() throws IOException {
        int[] pair = Native.seqpacketPair();
        String launcher = NativeBinaries.path(NativeBinaries.LAUNCHER).toString();
        int started;
        try {
            started = Native.spawn(launcher, List.of(launcher, "--server", "3"), List.of(), List.of(
                    new Native.FdMapping(devNullRead, 0), new Native.FdMapping(devNullWrite, 1),
                    new Native.FdMapping(2, 2), new Native.FdMapping(pair[1], 3)));
        } catch (IOException e) {
            Native.close(pair[0]);
            throw e;
        } finally {
            Native.close(pair[1]);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Native.allocateCallState(arena);
            MemorySegment buffer = arena.allocate(16);
            boolean ready = Native.pollReadable(pair[0], START_TIMEOUT_MILLIS, arena.allocate(8), state)
                    && Native.read(pair[0], buffer, state) == 4 && buffer.get(ValueLayout.JAVA_INT, 0) == READY;
            if (!ready) {
                Native.kill(started, Native.SIGKILL);
                Native.waitpid(started);
                Native.close(pair[0]);
                throw new IOException("the spawn server (" + launcher + " --server) did not start; "
                        + "its messages are on this process's stderr");
            }
        }
        socket = pair[0];
        pid = started;
    }

    /** A dead server is reaped off the caller's thread: it may still be ending its keepers. */
    private static void reapInBackground(int pid) {
        Thread.ofPlatform().daemon(true).name("paddock-reap-server").start(() -> {
            try {
                Native.waitpid(pid);
            } catch (Native.ErrnoException e) {
                // Already reaped, or not ours: nothing left to do.
            }
        });
    }

    private static byte[] spawnRequest(long id, List<String> argv, List<String> envp) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.nativeOrder());
        header.putInt(MAGIC).putInt(SPAWN).putLong(id).putInt(argv.size()).putInt(envp.size());
        out.writeBytes(header.array());
        for (List<String> strings : List.of(argv, envp))
            for (String s : strings) {
                out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
                out.write(0);
            }
        return out.toByteArray();
    }

    /** Closes the socket: the server kills whatever still runs and exits; waits for it. */
    @Override
    public void close() {
        int ended;
        lock.writeLock().lock();
        try {
            if (closed) return;
            closed = true;
            ended = pid;
            if (socket >= 0) Native.close(socket);
            socket = -1;
            pid = -1;
        } finally {
            lock.writeLock().unlock();
        }
        if (ended < 0) return;
        try {
            Native.waitpid(ended);
        } catch (Native.ErrnoException e) {
            // Reaped already: nothing to wait for.
        }
    }
}
