package dev.paddock.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.paddock.PtySize;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Pseudo-terminals and terminal modes through libc (glibc, x86_64 and aarch64 layouts). */
public final class Terminal {
    private Terminal() {}

    private static final long TIOCGWINSZ = 0x5413;
    private static final long TIOCSWINSZ = 0x5414;
    private static final long TIOCGPGRP = 0x540F;
    private static final int TCSANOW = 0;
    /** struct termios: four flag words, c_line, c_cc[32], then two speeds. */
    private static final long TERMIOS_SIZE = 60;
    private static final long C_LFLAG = 12;
    private static final long C_CC = 17;
    private static final int VINTR = 0;
    private static final int VEOF = 4;
    private static final int ISIG = 0000001;

    private static final MethodHandle POSIX_OPENPT = Native.withErrno("posix_openpt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle GRANTPT = Native.withErrno("grantpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle UNLOCKPT = Native.withErrno("unlockpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /** ptsname_r, not ptsname: the latter's static buffer breaks concurrent opens. */
    private static final MethodHandle PTSNAME_R = Native.function("ptsname_r",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle IOCTL = Native.withErrno("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle TCGETATTR = Native.withErrno("tcgetattr",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle TCSETATTR = Native.withErrno("tcsetattr",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle CFMAKERAW = Native.function("cfmakeraw", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle ISATTY = Native.function("isatty", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    /** A fresh pty: the master (close-on-exec) and its slave, opened without becoming anyone's terminal. */
    public record Pair(int master, int slave, String slaveName) {}

    public static Pair open(PtySize size) throws Native.ErrnoException {
        int master = -1;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CALL_STATE);
            master = (int) POSIX_OPENPT.invokeExact(state, Native.O_RDWR | Native.O_NOCTTY | Native.O_CLOEXEC);
            if (master < 0) throw new Native.ErrnoException("posix_openpt", Native.errno(state));
            master = Native.highFd(master);
            if ((int) GRANTPT.invokeExact(state, master) < 0)
                throw new Native.ErrnoException("grantpt", Native.errno(state));
            if ((int) UNLOCKPT.invokeExact(state, master) < 0)
                throw new Native.ErrnoException("unlockpt", Native.errno(state));
            MemorySegment name = arena.allocate(64);
            int rc = (int) PTSNAME_R.invokeExact(master, name, name.byteSize());
            if (rc != 0) throw new Native.ErrnoException("ptsname_r", rc);
            String slaveName = name.getString(0);
            resize(master, size);
            int slave = Native.open(slaveName, Native.O_RDWR | Native.O_NOCTTY, 0);
            return new Pair(master, slave, slaveName);
        } catch (Native.ErrnoException e) {
            if (master >= 0) Native.close(master);
            throw e;
        } catch (Throwable t) {
            if (master >= 0) Native.close(master);
            throw Native.rethrow(t);
        }
    }

    public static void resize(int fd, PtySize size) throws Native.ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocate(8);
            ws.set(JAVA_SHORT, 0, (short) size.rows());
            ws.set(JAVA_SHORT, 2, (short) size.columns());
            ioctl(arena, fd, TIOCSWINSZ, ws, "ioctl(TIOCSWINSZ)");
        }
    }

    public static PtySize size(int fd) throws Native.ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocate(8);
            ioctl(arena, fd, TIOCGWINSZ, ws, "ioctl(TIOCGWINSZ)");
            return new PtySize(Short.toUnsignedInt(ws.get(JAVA_SHORT, 2)), Short.toUnsignedInt(ws.get(JAVA_SHORT, 0)));
        }
    }

    /** The terminal's foreground process group (asked through the master for a pty). */
    public static int foregroundGroup(int fd) throws Native.ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pgrp = arena.allocate(JAVA_INT);
            ioctl(arena, fd, TIOCGPGRP, pgrp, "ioctl(TIOCGPGRP)");
            return pgrp.get(JAVA_INT, 0);
        }
    }

    private static void ioctl(Arena arena, int fd, long request, MemorySegment arg, String call)
            throws Native.ErrnoException {
        MemorySegment state = arena.allocate(Native.CALL_STATE);
        try {
            if ((int) IOCTL.invokeExact(state, fd, request, arg) < 0)
                throw new Native.ErrnoException(call, Native.errno(state));
        } catch (Native.ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static boolean isTerminal(int fd) {
        try {
            return (int) ISATTY.invokeExact(fd) == 1;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** A terminal's settings, to restore later. */
    public static byte[] attributes(int fd) throws Native.ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment termios = arena.allocate(TERMIOS_SIZE);
            MemorySegment state = arena.allocate(Native.CALL_STATE);
            if ((int) TCGETATTR.invokeExact(state, fd, termios) < 0)
                throw new Native.ErrnoException("tcgetattr", Native.errno(state));
            return termios.toArray(JAVA_BYTE);
        } catch (Native.ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void setAttributes(int fd, byte[] attributes) throws Native.ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment termios = arena.allocateFrom(JAVA_BYTE, attributes);
            MemorySegment state = arena.allocate(Native.CALL_STATE);
            if ((int) TCSETATTR.invokeExact(state, fd, TCSANOW, termios) < 0)
                throw new Native.ErrnoException("tcsetattr", Native.errno(state));
        } catch (Native.ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The given settings in raw mode (cfmakeraw): no echo, no line editing, no signals from keys. */
    public static byte[] raw(byte[] attributes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment termios = arena.allocateFrom(JAVA_BYTE, attributes);
            CFMAKERAW.invokeExact(termios);
            return termios.toArray(JAVA_BYTE);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Whether keys generate signals (ISIG), and the interrupt and end-of-file characters. */
    public record Keys(boolean signals, byte interrupt, byte endOfFile) {}

    public static Keys keys(byte[] attributes) {
        MemorySegment termios = MemorySegment.ofArray(attributes);
        int lflag = termios.get(JAVA_INT.withByteAlignment(1), C_LFLAG);
        return new Keys((lflag & ISIG) != 0, attributes[(int) C_CC + VINTR], attributes[(int) C_CC + VEOF]);
    }
}
