package dev.paddock.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.paddock.Pty;
import dev.paddock.PtySize;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * The master fd of an action's pty. The fd is closed once nothing uses it:
 * after {@link #close()} or the end of output, and only when no read or write
 * is in flight on another thread, so a reused fd number is never touched.
 */
final class PtyMaster implements Pty {
    private final int fd;
    private final Object lock = new Object();
    private int inFlight; // guarded by lock
    private boolean closing; // guarded by lock
    private boolean closed; // guarded by lock
    private final InputStream output = new Output();
    private final OutputStream input = new Input();

    PtyMaster(int fd) {
        this.fd = fd;
    }

    @Override
    public OutputStream input() {
        return input;
    }

    @Override
    public InputStream output() {
        return output;
    }

    @Override
    public PtySize size() throws IOException {
        acquire();
        try {
            return Terminal.size(fd);
        } finally {
            release();
        }
    }

    @Override
    public void resize(PtySize size) throws IOException {
        acquire();
        try {
            Terminal.resize(fd, size);
        } finally {
            release();
        }
    }

    @Override
    public void interrupt() throws IOException {
        acquire();
        try {
            Terminal.Keys keys = Terminal.keys(Terminal.attributes(fd));
            if (keys.signals()) {
                write(new byte[] {keys.interrupt()});
            } else {
                int group = Terminal.foregroundGroup(fd);
                if (group > 0) Native.kill(-group, Native.SIGINT);
            }
        } finally {
            release();
        }
    }

    @Override
    public void sendEof() throws IOException {
        acquire();
        try {
            write(new byte[] {Terminal.keys(Terminal.attributes(fd)).endOfFile()});
        } finally {
            release();
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closing = true;
            closeIfUnused();
        }
    }

    private void acquire() throws IOException {
        synchronized (lock) {
            if (closing) throw new IOException("the pty is closed");
            inFlight++;
        }
    }

    private void release() {
        synchronized (lock) {
            inFlight--;
            closeIfUnused();
        }
    }

    private void closeIfUnused() {
        if (closing && inFlight == 0 && !closed) {
            closed = true;
            Native.close(fd);
        }
    }

    private void write(byte[] bytes) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(bytes.length);
            MemorySegment.copy(bytes, 0, buffer, JAVA_BYTE, 0, bytes.length);
            MemorySegment state = arena.allocate(Native.CALL_STATE);
            long done = 0;
            while (done < bytes.length)
                done += Native.write(fd, buffer.asSlice(done), bytes.length - done, state);
        }
    }

    /** Reads the action's terminal output; EIO (every slave closed) is the end. */
    private final class Output extends InputStream {
        private boolean ended;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) return 0;
            synchronized (lock) {
                if (ended || closing) return -1;
                inFlight++;
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buffer = arena.allocate(Math.min(len, 65536));
                int n = Native.read(fd, buffer, arena.allocate(Native.CALL_STATE));
                if (n == 0) return end();
                MemorySegment.copy(buffer, JAVA_BYTE, 0, b, off, n);
                return n;
            } catch (Native.ErrnoException e) {
                if (e.errno() == Native.EIO) return end();
                throw e;
            } finally {
                release();
            }
        }

        /** Nothing can be read or written any more: let the fd go. */
        private int end() {
            synchronized (lock) {
                ended = true;
                closing = true;
            }
            return -1;
        }

        @Override
        public void close() {
            PtyMaster.this.close();
        }
    }

    private final class Input extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            acquire();
            try {
                PtyMaster.this.write(Arrays.copyOfRange(b, off, off + len));
            } finally {
                release();
            }
        }
    }
}
