package dev.paddock.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One {@code paddock-launch --server} per {@link dev.paddock.Paddock}, started on first use and
 * restarted when it has died. The server forks keepers, each with its own socket pair, and hands
 * this JVM one end; a spawn request then goes straight to an idle keeper, so it wakes one process:
 * the keeper, or the spare sandbox that reads the keeper's socket in its place. The server's own
 * socket is its lifeline: when this JVM closes it or dies, the server ends every keeper, and every
 * keeper kills its action's tree. The wire format is in the launcher's protocol.h.
 */
public final class SpawnServer implements AutoCloseable {
    private static final int MAGIC = 0x314b4450;
    private static final int READY = 0x59444552;
    private static final int SPAWN = 1;
    /** In a spawn request's type: ready a spare sandbox after this action (protocol.h). */
    private static final int READY_SPARE = 0x10000;
    private static final int SIGNAL = 2;
    private static final int KEEPER = 3;
    private static final int HEADER_SIZE = 24;
    /** The launcher's limit on one request; a bigger one runs through a one-shot launcher. */
    static final int MAX_REQUEST = 256 * 1024;
    /** A keeper runs this many actions, then is let go: what parsing them allocated goes with it. */
    static final int KEEPER_ACTIONS = 500;
    private static final int START_TIMEOUT_MILLIS = 10_000;

    /** The server cannot take this request (too large, or no server can start): run it one-shot. */
    static final class NotServed extends IOException {
        NotServed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * A keeper process of one server (its generation) and this JVM's end of its socket. One
     * action uses it at a time: it is taken from the idle pool and given back after the action's
     * last record.
     */
    static final class Keeper {
        private final int socket;
        private final int pid;
        private final boolean sharedNetwork;
        private final long generation;
        private int served;

        private Keeper(int socket, int pid, boolean sharedNetwork, long generation) {
            this.socket = socket;
            this.pid = pid;
            this.sharedNetwork = sharedNetwork;
            this.generation = generation;
        }
    }

    /**
     * A request handed to a keeper: where its signals go, and the keeper to give back. Its status
     * records arrive on the keeper's socket, which stays this JVM's: never close it.
     */
    record Request(long id, Keeper keeper) {
        int statusFd() {
            return keeper.socket;
        }
    }

    private final int devNullRead;
    private final int devNullWrite;
    private final AtomicLong ids = new AtomicLong();
    /* Requests sent whose last record has not come yet. Only a hint (keepers ready spare
     * sandboxes while it leaves a core idle), so a count gone astray costs speed, not function. */
    private final AtomicInteger inFlight = new AtomicInteger();
    private final int spareWhileInFlightBelow = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    /* Users of the server's socket and of the idle pools share the read lock; replacing the server
     * or closing takes the write lock, so that no fd is closed (and its number reused) while
     * another thread still uses it. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final ReentrantLock keeperRequest = new ReentrantLock(); // one question and answer at a time
    private final Deque<Keeper> idle = new ConcurrentLinkedDeque<>();
    private final Deque<Keeper> idleSharedNetwork = new ConcurrentLinkedDeque<>();
    private int socket = -1;      // guarded by lock
    private int pid = -1;         // guarded by lock
    private long generation;      // guarded by lock: which server the keepers belong to
    private boolean closed;       // guarded by lock
    private volatile IOException unavailable; // why no server could start; then it is never tried again

    public SpawnServer(int devNullRead, int devNullWrite) {
        this.devNullRead = devNullRead;
        this.devNullWrite = devNullWrite;
    }

    /**
     * Hands a spawn request to an idle keeper (or a new one): argv is a one-shot command line, fds
     * the action's stdin, stdout and stderr. Starts the server first if none runs, and again if
     * the running one turns out to be dead.
     */
    Request spawn(List<String> argv, List<String> envp, int[] fds, boolean sharedNetwork) throws IOException {
        if (unavailable != null) throw new NotServed("no spawn server", unavailable);
        long id = ids.incrementAndGet();
        // A spare sandbox is made while the action runs: worth it only with a core to spare for it.
        byte[] request = spawnRequest(id, argv, envp, inFlight.get() < spareWhileInFlightBelow);
        if (request.length > MAX_REQUEST)
            throw new NotServed("spawn request of " + request.length + " bytes exceeds the spawn server's "
                    + MAX_REQUEST, null);
        for (int fresh = 0; ; ) {
            Keeper keeper = (sharedNetwork ? idleSharedNetwork : idle).pollFirst();
            if (keeper == null) {
                keeper = newKeeper(sharedNetwork);
                fresh++;
            }
            try {
                Native.sendWithFds(keeper.socket, request, fds);
                inFlight.incrementAndGet();
                return new Request(id, keeper);
            } catch (Native.ErrnoException e) {
                Native.close(keeper.socket); // that keeper has gone (its server died, or it was let go)
                if (!peerGone(e) || fresh > 1) throw e;
            }
        }
    }

    /**
     * The action's last record has arrived, or the keeper's socket ended without one: the keeper
     * goes back to the pool if it is fit for another action, else it is let go. The caller has
     * stopped watching the socket.
     */
    void finished(Request request, boolean keeperFit) {
        Keeper keeper = request.keeper();
        keeper.served++;
        inFlight.decrementAndGet();
        lock.readLock().lock();
        try {
            if (keeperFit && !closed && keeper.generation == generation && keeper.served < KEEPER_ACTIONS) {
                (keeper.sharedNetwork ? idleSharedNetwork : idle).offerFirst(keeper);
                return;
            }
        } finally {
            lock.readLock().unlock();
        }
        Native.close(keeper.socket);
    }

    /** Passes SIGTERM, SIGINT or SIGHUP to the keeper of a request; nothing if it has ended. */
    void signal(Request request, int signal) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.nativeOrder());
        b.putInt(MAGIC).putInt(SIGNAL).putLong(request.id()).putInt(signal).putInt(request.keeper().pid);
        lock.readLock().lock();
        try {
            if (socket >= 0 && request.keeper().generation == generation)
                Native.sendWithFds(socket, b.array(), new int[0]);
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

    /** False once a server failed to start: every action then runs one-shot. */
    public boolean available() {
        return unavailable == null;
    }

    private static boolean peerGone(Native.ErrnoException e) {
        return e.errno() == Native.EPIPE || e.errno() == Native.ECONNRESET || e.errno() == Native.ENOTCONN;
    }

    /** Asks the server for a new keeper; starts a server if none runs, or if it has died. */
    private Keeper newKeeper(boolean sharedNetwork) throws IOException {
        ByteBuffer question = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.nativeOrder());
        question.putInt(MAGIC).putInt(KEEPER).putLong(0).putInt(sharedNetwork ? 1 : 0).putInt(0);
        for (int attempt = 0; ; attempt++) {
            int used;
            lock.readLock().lock();
            try {
                if (closed) throw new IllegalStateException("this Paddock is closed");
                used = socket;
                if (used >= 0) {
                    keeperRequest.lock();
                    try {
                        Native.sendWithFds(used, question.array(), new int[0]);
                        Native.Received answer = Native.receiveWithFd(used, HEADER_SIZE);
                        if (answer != null) return keeper(answer, sharedNetwork);
                    } catch (Native.ErrnoException e) {
                        if (!peerGone(e)) throw e;
                    } finally {
                        keeperRequest.unlock();
                    }
                    if (attempt > 0) throw new IOException("the spawn server ended while starting a keeper");
                }
            } finally {
                lock.readLock().unlock();
            }
            replace(used);
        }
    }

    /** The keeper in the server's answer; called under the read lock. */
    private Keeper keeper(Native.Received answer, boolean sharedNetwork) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(answer.data()).order(ByteOrder.nativeOrder());
        if (answer.data().length < HEADER_SIZE || b.getInt(0) != MAGIC || b.getInt(4) != KEEPER) {
            if (answer.fd() >= 0) Native.close(answer.fd());
            throw new IOException("the spawn server answered a keeper request with something else");
        }
        if (answer.fd() < 0) {
            int errno = b.getInt(20);
            throw new IOException("the spawn server cannot start a keeper process: " + Errno.name(errno) + " ("
                    + Errno.message(errno) + ")");
        }
        return new Keeper(answer.fd(), (int) b.getLong(8), sharedNetwork, generation);
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
            letIdleKeepersGo(); // they belonged to the dead server
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

    /** Closes every idle keeper's socket; called under the write lock. */
    private void letIdleKeepersGo() {
        for (Deque<Keeper> pool : List.of(idle, idleSharedNetwork))
            for (Keeper k; (k = pool.pollFirst()) != null; ) Native.close(k.socket);
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
        generation++;
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

    /** Strings as the launcher reads them: each in UTF-8, NUL-terminated. */
    private record EncodedStrings(List<String> strings, byte[] bytes) {
        static EncodedStrings of(List<String> strings) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            for (String s : strings) {
                out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
                out.write(0);
            }
            return new EncodedStrings(strings, out.toByteArray());
        }
    }

    /* Most actions pass the same environment list (the JVM's own): encode it once. */
    private volatile EncodedStrings lastEnvironment = EncodedStrings.of(List.of());

    private byte[] spawnRequest(long id, List<String> argv, List<String> envp, boolean readySpare) {
        EncodedStrings environment = lastEnvironment;
        if (environment.strings() != envp) // the same list, not an equal one: equals would cost a scan
            lastEnvironment = environment = EncodedStrings.of(envp);
        byte[] arguments = EncodedStrings.of(argv).bytes();
        ByteBuffer request = ByteBuffer.allocate(HEADER_SIZE + arguments.length + environment.bytes().length)
                .order(ByteOrder.nativeOrder());
        request.putInt(MAGIC).putInt(readySpare ? SPAWN | READY_SPARE : SPAWN).putLong(id).putInt(argv.size()).putInt(envp.size());
        return request.put(arguments).put(environment.bytes()).array();
    }

    /**
     * Lets the idle keepers go and closes the server's socket: the server ends every keeper (each
     * kills whatever its action left) and exits; waits for it.
     */
    @Override
    public void close() {
        int ended;
        lock.writeLock().lock();
        try {
            if (closed) return;
            closed = true;
            letIdleKeepersGo();
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
