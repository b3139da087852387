package dev.paddock.cli;

import dev.paddock.Pty;
import dev.paddock.PtySize;
import dev.paddock.internal.Native;
import dev.paddock.internal.Terminal;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import sun.misc.Signal;

/**
 * Connects the user's terminal (or plain stdin and stdout) to an action's pty.
 * On a terminal: raw mode, so every key (Ctrl-C included) goes to the action's
 * own terminal, which handles it as a terminal would; the window size follows
 * SIGWINCH; and the user's settings come back on every way out, including a
 * SIGTERM to paddock (the action is cancelled, then this closes) and an
 * unexpected exit (a shutdown hook).
 */
final class PtyPassthrough implements AutoCloseable {
    private static final int STDIN = 0;
    private static final int STDOUT = 1;

    private final Pty pty;
    private final byte[] savedSettings; // null: stdin is not a terminal
    private final Thread output;
    private final Thread restoreOnExit = new Thread(this::restore, "paddock-terminal-restore");
    private boolean restored; // guarded by this

    /** The size the action's terminal starts with: the user's, or 80x24. */
    static PtySize initialSize() {
        for (int fd : new int[] {STDIN, STDOUT}) {
            if (!Terminal.isTerminal(fd)) continue;
            try {
                PtySize size = Terminal.size(fd);
                if (size.columns() > 0 && size.rows() > 0) return size;
            } catch (IOException | IllegalArgumentException e) {
                // a terminal without a size: use the default
            }
        }
        return PtySize.DEFAULT;
    }

    PtyPassthrough(Pty pty) throws IOException {
        this.pty = pty;
        boolean interactive = Terminal.isTerminal(STDIN);
        this.savedSettings = interactive ? Terminal.attributes(STDIN) : null;
        if (interactive) {
            Runtime.getRuntime().addShutdownHook(restoreOnExit);
            Terminal.setAttributes(STDIN, Terminal.raw(savedSettings));
            Signal.handle(new Signal("WINCH"), s -> {
                try {
                    pty.resize(Terminal.size(STDIN));
                } catch (IOException | IllegalArgumentException e) {
                    // the action has ended, or the terminal has no size: nothing to follow
                }
            });
        }
        output = Thread.ofPlatform().name("paddock-pty-output").start(() -> copy(pty.output(),
                new FileOutputStream(FileDescriptor.out), false));
        Thread.ofPlatform().daemon().name("paddock-pty-input").start(() -> copy(new FileInputStream(FileDescriptor.in),
                pty.input(), !interactive));
    }

    /** Waits (bounded) until the action's output has all been written out. */
    void drain() throws InterruptedException {
        output.join(5000);
    }

    private void copy(InputStream from, OutputStream to, boolean endOfFileToAction) {
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = from.read(buf)) >= 0; ) {
                to.write(buf, 0, n);
                to.flush();
            }
            // Piped input ran out: the action reads end of file, as it would from the pipe.
            if (endOfFileToAction) pty.sendEof();
        } catch (IOException e) {
            // the pty or our stdout closed: the copy is over
        }
    }

    private synchronized void restore() {
        if (restored || savedSettings == null) return;
        restored = true;
        try {
            Terminal.setAttributes(STDIN, savedSettings);
        } catch (Native.ErrnoException e) {
            // the terminal is gone: nothing left to restore
        }
    }

    @Override
    public void close() {
        restore();
        if (savedSettings != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(restoreOnExit);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs restore(), which is idempotent
            }
        }
    }
}
