package dev.paddock.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few libc calls paddock needs, through the FFM API. Every call that can
 * fail captures errno and throws {@link ErrnoException} naming the call.
 * This is the only class that touches native code.
 */
public final class Native {
    private Native() {}

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    public static final int O_CLOEXEC = 02000000;
    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;
    public static final int SIGINT = 2;
    public static final int EPOLLIN = 0x001;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EINTR = 4;
    public static final int ESRCH = 3;
    public static final int EAGAIN = 11;
    public static final int ECHILD = 10;
    public static final int EIO = 5;
    public static final int O_NOCTTY = 0400;
    public static final int EPIPE = 32;
    public static final int ECONNRESET = 104;
    public static final int ENOTCONN = 107;
    private static final int AF_UNIX = 1;
    private static final int SOCK_SEQPACKET = 5;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** struct msghdr and struct cmsghdr on x86_64. */
    private static final long MSGHDR_SIZE = 56;
    private static final long CMSG_HEADER_SIZE = 16;

    private static final int POSIX_SPAWN_SETPGROUP = 0x02;
    private static final int POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final int POSIX_SPAWN_SETSIGMASK = 0x08;
    // glibc's opaque types are smaller than these; oversizing is harmless.
    private static final long SPAWN_ATTR_SIZE = 512;
    private static final long FILE_ACTIONS_SIZE = 256;
    private static final long SIGSET_SIZE = 128;
    /** struct epoll_event is packed on x86_64: u32 events, u64 data. */
    public static final long EPOLL_EVENT_SIZE = 12;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    static MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name + " (paddock needs glibc 2.34 or newer)"));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    static MethodHandle withErrno(String name, FunctionDescriptor descriptor, Linker.Option... more) {
        Linker.Option[] options = new Linker.Option[more.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(more, 0, options, 1, more.length);
        return function(name, descriptor, options); // the handle takes the call-state segment first
    }

    private static final MethodHandle POSIX_SPAWN = function("posix_spawn",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle FA_INIT = function("posix_spawn_file_actions_init",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_DESTROY = function("posix_spawn_file_actions_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_ADDDUP2 = function("posix_spawn_file_actions_adddup2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle FA_ADDCLOSEFROM = function("posix_spawn_file_actions_addclosefrom_np",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle ATTR_INIT = function("posix_spawnattr_init",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_DESTROY = function("posix_spawnattr_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_SETFLAGS = function("posix_spawnattr_setflags",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ValueLayout.JAVA_SHORT));
    private static final MethodHandle ATTR_SETSIGMASK = function("posix_spawnattr_setsigmask",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle ATTR_SETSIGDEFAULT = function("posix_spawnattr_setsigdefault",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGEMPTYSET = function("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SIGFILLSET = function("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SIGADDSET = function("sigaddset", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    /**
     * Blocked in a new launcher until it has set up its signalfd, where it then reads them: a
     * cancel (TERM, INT, HUP, QUIT) or the owner-death signal (USR2) sent right after the spawn
     * waits for it instead of killing it. The launcher clears its action's mask before exec.
     */
    private static final int[] LAUNCHER_BLOCKED_SIGNALS = {1, 2, 3, 12, 15};

    private static final MethodHandle PIPE2 = withErrno("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle OPEN = withErrno("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FCNTL = withErrno("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = withErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = withErrno("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle KILL = withErrno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle WAITPID = withErrno("waitpid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle EPOLL_CREATE1 = withErrno("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = withErrno("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle POLL = withErrno("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle EPOLL_WAIT = withErrno("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle EVENTFD = withErrno("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle WRITE = withErrno("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle GETUID = function("getuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SOCKETPAIR = withErrno("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SENDMSG = withErrno("sendmsg",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG = withErrno("recvmsg",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));

    /** One fd-to-fd mapping for the spawned process: {@code source} becomes {@code target}. */
    public record FdMapping(int source, int target) {}

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /**
     * posix_spawns the launcher at {@code path} with the given argv and envp. The child gets
     * exactly the mapped fds (every other fd is closed), default signal dispositions, the
     * signals it supervises blocked (it reads them from a signalfd), and its own process group,
     * so that a terminal's signals reach it only through its owner. Returns the pid.
     */
    public static int spawn(String path, List<String> argv, List<String> envp, List<FdMapping> fds) throws ErrnoException {
        int highest = fds.stream().mapToInt(FdMapping::target).max().orElse(2);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(FILE_ACTIONS_SIZE, 16);
            MemorySegment attr = arena.allocate(SPAWN_ATTR_SIZE, 16);
            MemorySegment sigset = arena.allocate(SIGSET_SIZE, 16);
            MemorySegment pid = arena.allocate(JAVA_INT);
            int rc = (int) FA_INIT.invokeExact(actions);
            if (rc != 0) throw new ErrnoException("posix_spawn_file_actions_init", rc);
            rc = (int) ATTR_INIT.invokeExact(attr);
            if (rc != 0) throw new ErrnoException("posix_spawnattr_init", rc);
            try {
                for (FdMapping m : fds) {
                    rc = (int) FA_ADDDUP2.invokeExact(actions, m.source(), m.target());
                    if (rc != 0) throw new ErrnoException("posix_spawn_file_actions_adddup2", rc);
                }
                // JDK-opened fds often lack O_CLOEXEC: close everything else explicitly.
                rc = (int) FA_ADDCLOSEFROM.invokeExact(actions, highest + 1);
                if (rc != 0) throw new ErrnoException("posix_spawn_file_actions_addclosefrom_np", rc);
                rc = (int) SIGEMPTYSET.invokeExact(sigset);
                for (int sig : LAUNCHER_BLOCKED_SIGNALS) rc = (int) SIGADDSET.invokeExact(sigset, sig);
                rc = (int) ATTR_SETSIGMASK.invokeExact(attr, sigset);
                rc = (int) SIGFILLSET.invokeExact(sigset);
                rc = (int) ATTR_SETSIGDEFAULT.invokeExact(attr, sigset);
                rc = (int) ATTR_SETFLAGS.invokeExact(attr, (short) (POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
                if (rc != 0) throw new ErrnoException("posix_spawnattr_setflags", rc);
                rc = (int) POSIX_SPAWN.invokeExact(pid, arena.allocateFrom(path), actions, attr,
                        cStrings(arena, argv), cStrings(arena, envp));
                if (rc != 0) throw new ErrnoException("posix_spawn", rc, path);
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) FA_DESTROY.invokeExact(actions);
                ignored = (int) ATTR_DESTROY.invokeExact(attr);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static MemorySegment cStrings(Arena arena, List<String> strings) {
        MemorySegment array = arena.allocate(ADDRESS, strings.size() + 1L);
        for (int i = 0; i < strings.size(); i++) array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
        array.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
        return array;
    }

    /** pipe2(O_CLOEXEC); returns {read end, write end}, both at fd 10 or above. */
    public static int[] pipe() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int rc = (int) PIPE2.invokeExact(state, fds, O_CLOEXEC);
            if (rc < 0) throw new ErrnoException("pipe2", errno(state));
            return new int[] {highFd(fds.getAtIndex(JAVA_INT, 0)), highFd(fds.getAtIndex(JAVA_INT, 1))};
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC); both ends at fd 10 or above. */
    public static int[] seqpacketPair() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int rc = (int) SOCKETPAIR.invokeExact(state, AF_UNIX, SOCK_SEQPACKET | O_CLOEXEC, 0, fds);
            if (rc < 0) throw new ErrnoException("socketpair", errno(state));
            return new int[] {highFd(fds.getAtIndex(JAVA_INT, 0)), highFd(fds.getAtIndex(JAVA_INT, 1))};
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Sends one message on a SOCK_SEQPACKET socket, with fds (possibly none) attached by
     * SCM_RIGHTS; the receiver gets its own copies. Never raises SIGPIPE: a closed peer is
     * EPIPE. Retries EINTR.
     */
    public static void sendWithFds(int socket, byte[] data, int[] fds) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment payload = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, payload, ValueLayout.JAVA_BYTE, 0, data.length);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ADDRESS, 0, payload);
            iov.set(JAVA_LONG, 8, data.length);
            MemorySegment msg = arena.allocate(MSGHDR_SIZE, 8);
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1);
            if (fds.length > 0) {
                long dataLen = 4L * fds.length;
                long space = CMSG_HEADER_SIZE + ((dataLen + 7) & ~7L);
                MemorySegment control = arena.allocate(space, 8);
                control.set(JAVA_LONG, 0, CMSG_HEADER_SIZE + dataLen);
                control.set(JAVA_INT, 8, SOL_SOCKET);
                control.set(JAVA_INT, 12, SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) control.set(JAVA_INT, CMSG_HEADER_SIZE + 4L * i, fds[i]);
                msg.set(ADDRESS, 32, control);
                msg.set(JAVA_LONG, 40, space);
            }
            for (;;) {
                long n = (long) SENDMSG.invokeExact(state, socket, msg, MSG_NOSIGNAL);
                if (n >= 0) return;
                int err = errno(state);
                if (err != EINTR) throw new ErrnoException("sendmsg", err);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** One message from a socket: its bytes, and the fd it carried, or -1. */
    public record Received(byte[] data, int fd) {}

    /**
     * Receives one message of at most maxLength bytes from a SOCK_SEQPACKET socket, with at
     * most one fd attached by SCM_RIGHTS (moved to 10 or above, close-on-exec); null at end of
     * file. Blocks; retries EINTR.
     */
    public static Received receiveWithFd(int socket, int maxLength) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment payload = arena.allocate(maxLength);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ADDRESS, 0, payload);
            iov.set(JAVA_LONG, 8, maxLength);
            long space = CMSG_HEADER_SIZE + 8;
            MemorySegment control = arena.allocate(space, 8);
            MemorySegment msg = arena.allocate(MSGHDR_SIZE, 8);
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1);
            msg.set(ADDRESS, 32, control);
            msg.set(JAVA_LONG, 40, space);
            long n;
            for (;;) {
                n = (long) RECVMSG.invokeExact(state, socket, msg, MSG_CMSG_CLOEXEC);
                if (n >= 0) break;
                int err = errno(state);
                if (err != EINTR) throw new ErrnoException("recvmsg", err);
            }
            int fd = -1;
            long controlLength = msg.get(JAVA_LONG, 40);
            if (controlLength >= CMSG_HEADER_SIZE + 4 && control.get(JAVA_INT, 8) == SOL_SOCKET
                    && control.get(JAVA_INT, 12) == SCM_RIGHTS)
                fd = highFd(control.get(JAVA_INT, CMSG_HEADER_SIZE));
            if (n == 0 && fd < 0) return null;
            return new Received(payload.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), fd);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** open(2) with O_CLOEXEC added; the fd is moved to 10 or above. */
    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), flags | O_CLOEXEC, mode);
            if (fd < 0) throw new ErrnoException("open", errno(state), path);
            return highFd(fd);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Moves fd to 10 or above. posix_spawn applies dup2 actions in order, so a
     * source fd that is also another mapping's target (0 to 4) would be
     * overwritten before it is used; sources above every target cannot be.
     */
    static int highFd(int fd) throws ErrnoException {
        if (fd >= 10) return fd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int moved = (int) FCNTL.invokeExact(state, fd, F_DUPFD_CLOEXEC, 10);
            int err = errno(state);
            close(fd);
            if (moved < 0) throw new ErrnoException("fcntl(F_DUPFD_CLOEXEC)", err);
            return moved;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(CALL_STATE), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(2) of up to length bytes, retried on EINTR; returns how many were written. */
    public static int write(int fd, MemorySegment buffer, long length, MemorySegment state) throws ErrnoException {
        try {
            for (;;) {
                long n = (long) WRITE.invokeExact(state, fd, buffer, length);
                if (n >= 0) return (int) n;
                int err = errno(state);
                if (err != EINTR) throw new ErrnoException("write", err);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** read(2) into buffer; returns bytes read, 0 at EOF. Retries EINTR. */
    public static int read(int fd, MemorySegment buffer, MemorySegment state) throws ErrnoException {
        try {
            for (;;) {
                long n = (long) READ.invokeExact(state, fd, buffer, buffer.byteSize());
                if (n >= 0) return (int) n;
                int err = errno(state);
                if (err != EINTR) throw new ErrnoException("read", err);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static MemorySegment allocateCallState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /** kill(2); returns false if the process does not exist (ESRCH). */
    public static boolean kill(int pid, int signal) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) KILL.invokeExact(state, pid, signal);
            if (rc == 0) return true;
            int err = errno(state);
            if (err == ESRCH) return false;
            throw new ErrnoException("kill", err);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Blocking waitpid for one pid; returns the raw wait status. Retries EINTR. */
    public static int waitpid(int pid) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment status = arena.allocate(JAVA_INT);
            for (;;) {
                int rc = (int) WAITPID.invokeExact(state, pid, status, 0);
                if (rc == pid) return status.get(JAVA_INT, 0);
                int err = errno(state);
                if (err != EINTR) throw new ErrnoException("waitpid", err);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int epollCreate() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) EPOLL_CREATE1.invokeExact(state, O_CLOEXEC);
            if (fd < 0) throw new ErrnoException("epoll_create1", errno(state));
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Adds or removes fd (with its own number as the event data) on an epoll set. */
    public static void epollControl(int epollFd, int op, int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment event = arena.allocate(EPOLL_EVENT_SIZE, 8);
            event.set(ValueLayout.JAVA_INT_UNALIGNED, 0, EPOLLIN);
            event.set(ValueLayout.JAVA_LONG_UNALIGNED, 4, fd);
            int rc = (int) EPOLL_CTL.invokeExact(state, epollFd, op, fd, event);
            if (rc < 0) throw new ErrnoException("epoll_ctl", errno(state));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** epoll_wait without timeout; returns the number of events written to events. */
    /**
     * Waits up to timeoutMillis for fd to become readable (or hung up); returns whether it did.
     * pollfd is an 8-byte scratch segment. EINTR counts as "not yet".
     */
    public static boolean pollReadable(int fd, int timeoutMillis, MemorySegment pollfd, MemorySegment state)
            throws ErrnoException {
        pollfd.set(JAVA_INT, 0, fd);
        pollfd.set(ValueLayout.JAVA_SHORT, 4, (short) EPOLLIN); // POLLIN has the same value
        pollfd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
        try {
            int n = (int) POLL.invokeExact(state, pollfd, 1L, timeoutMillis);
            if (n < 0 && errno(state) != EINTR) throw new ErrnoException("poll", errno(state));
            return n > 0;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int epollWait(int epollFd, MemorySegment events, MemorySegment state) throws ErrnoException {
        try {
            int max = (int) (events.byteSize() / EPOLL_EVENT_SIZE);
            for (;;) {
                int n = (int) EPOLL_WAIT.invokeExact(state, epollFd, events, max, -1);
                if (n >= 0) return n;
                int err = errno(state);
                if (err != EINTR) throw new ErrnoException("epoll_wait", err);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int epollEventFd(MemorySegment events, int index) {
        return (int) events.get(ValueLayout.JAVA_LONG_UNALIGNED, index * EPOLL_EVENT_SIZE + 4);
    }

    public static int eventFd() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) EVENTFD.invokeExact(state, 0, O_CLOEXEC);
            if (fd < 0) throw new ErrnoException("eventfd", errno(state));
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Writes an 8-byte 1 to an eventfd, waking whoever polls it. */
    public static void signalEventFd(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1L);
            long ignored = (long) WRITE.invokeExact(arena.allocate(CALL_STATE), fd, one, 8L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int getuid() {
        try {
            return (int) GETUID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A failed libc call: which call, errno, and the path it was given if any. */
    public static final class ErrnoException extends IOException {
        private final String call;
        private final int errno;

        public ErrnoException(String call, int errno) {
            this(call, errno, null);
        }

        public ErrnoException(String call, int errno, String path) {
            super(call + (path == null ? "" : " " + path) + ": " + Errno.name(errno) + " (" + Errno.message(errno) + ")");
            this.call = call;
            this.errno = errno;
        }

        public String call() {
            return call;
        }

        public int errno() {
            return errno;
        }
    }
}
