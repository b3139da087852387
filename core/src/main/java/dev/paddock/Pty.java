package dev.paddock;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The master side of an action's pseudo-terminal ({@link Action.Builder#pty(PtySize)}): what
 * the action writes to its terminal, and what it reads as typed input.
 *
 * <p>{@link #output()} ends (returns -1) once every process of the action has closed the
 * terminal: the kernel's EIO on the master is the end of output, not an error. The master is
 * closed then, or by {@link #close()}, whichever comes first.
 */
public interface Pty extends AutoCloseable {
    /** Input to the action, as if typed. */
    OutputStream input();

    /** The action's terminal output (stdout and stderr together, colours intact). */
    InputStream output();

    /** The terminal's current size. */
    PtySize size() throws IOException;

    /** Sets the terminal's size; the action's foreground job gets SIGWINCH. */
    void resize(PtySize size) throws IOException;

    /**
     * Interrupts the foreground job, as Ctrl-C does: types the terminal's interrupt character,
     * or, when the action turned key signals off (raw mode), sends SIGINT to its foreground
     * process group.
     */
    void interrupt() throws IOException;

    /** Types the terminal's end-of-file character (Ctrl-D): a reading program sees end of input. */
    void sendEof() throws IOException;

    @Override
    void close();
}
