package dev.paddock;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where one of an action's standard streams goes. Files are opened by paddock
 * and handed to the action directly, so output written to a file is never
 * copied through the JVM.
 */
public final class Stdio {
    /** How the stream is connected. */
    public enum Kind {
        /** The same stream as the JVM's own. */
        INHERIT,
        /** A pipe the caller reads from or writes to through {@link Execution}. */
        PIPE,
        /** /dev/null. */
        DISCARD,
        /** A file: read from for stdin; created or truncated for stdout and stderr. */
        FILE,
        /** A file appended to (stdout and stderr only). */
        APPEND
    }

    private static final Stdio INHERIT = new Stdio(Kind.INHERIT, null);
    private static final Stdio PIPE = new Stdio(Kind.PIPE, null);
    private static final Stdio DISCARD = new Stdio(Kind.DISCARD, null);

    private final Kind kind;
    private final Path path;

    private Stdio(Kind kind, Path path) {
        this.kind = kind;
        this.path = path;
    }

    public static Stdio inherit() {
        return INHERIT;
    }

    public static Stdio pipe() {
        return PIPE;
    }

    public static Stdio discard() {
        return DISCARD;
    }

    public static Stdio file(Path path) {
        return new Stdio(Kind.FILE, Objects.requireNonNull(path, "path"));
    }

    public static Stdio append(Path path) {
        return new Stdio(Kind.APPEND, Objects.requireNonNull(path, "path"));
    }

    public Kind kind() {
        return kind;
    }

    public Optional<Path> path() {
        return Optional.ofNullable(path);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Stdio s && s.kind == kind && Objects.equals(s.path, path);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, path);
    }

    @Override
    public String toString() {
        return path == null ? kind.name().toLowerCase() : kind.name().toLowerCase() + ":" + path;
    }
}
