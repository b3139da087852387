package dev.paddock;

/** A terminal's size in character cells. */
public record PtySize(int columns, int rows) {
    /** 80 × 24. */
    public static final PtySize DEFAULT = new PtySize(80, 24);

    public PtySize {
        if (columns < 1 || columns > 0xffff || rows < 1 || rows > 0xffff)
            throw new IllegalArgumentException("a terminal has 1 to 65535 columns and rows: " + columns + "x" + rows);
    }
}
