package dev.paddock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What to run: an immutable description of one action. Build one with
 * {@link #newBuilder(String...)}, run it with {@link Paddock}.
 *
 * <p>Defaults: the JVM's environment and working directory, stdin from
 * /dev/null, stdout and stderr inherited from the JVM, no timeout, and a kill
 * grace period of 5 seconds between SIGTERM and SIGKILL.
 */
public final class Action {
    public static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(5);

    private final List<String> command;
    private final Map<String, String> environment; // null: the JVM's at spawn time
    private final Path directory;
    private final Duration timeout;
    private final Duration killGrace;
    private final Stdio stdin;
    private final Stdio stdout;
    private final Stdio stderr;
    private final Sandbox sandbox; // null: contained only
    private final PtySize pty; // null: no terminal
    private final Limits limits;

    private Action(Builder b) {
        this.command = List.copyOf(b.command);
        this.environment = b.environment == null ? null : Map.copyOf(b.environment);
        this.directory = b.directory;
        this.timeout = b.timeout;
        this.killGrace = b.killGrace;
        this.stdin = b.stdin;
        this.stdout = b.stdout;
        this.stderr = b.stderr;
        this.sandbox = b.sandbox;
        this.pty = b.pty;
        this.limits = b.limits;
    }

    public static Builder newBuilder(String... command) {
        return new Builder(List.of(command));
    }

    public static Builder newBuilder(List<String> command) {
        return new Builder(command);
    }

    /** A builder that starts from this action's settings. */
    public Builder toBuilder() {
        Builder b = new Builder(command);
        b.environment = environment == null ? null : new LinkedHashMap<>(environment);
        b.directory = directory;
        b.timeout = timeout;
        b.killGrace = killGrace;
        b.stdin = stdin;
        b.stdout = stdout;
        b.stderr = stderr;
        b.sandbox = sandbox;
        b.pty = pty;
        b.limits = limits;
        return b;
    }

    public List<String> command() {
        return command;
    }

    /** The environment the action gets, if set explicitly; empty means the JVM's own. */
    public Optional<Map<String, String>> environment() {
        return Optional.ofNullable(environment);
    }

    public Optional<Path> directory() {
        return Optional.ofNullable(directory);
    }

    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    public Duration killGrace() {
        return killGrace;
    }

    public Stdio stdin() {
        return stdin;
    }

    public Stdio stdout() {
        return stdout;
    }

    public Stdio stderr() {
        return stderr;
    }

    /** The sandbox the action runs in; empty: contained but not sandboxed. */
    public Optional<Sandbox> sandbox() {
        return Optional.ofNullable(sandbox);
    }

    /** The size of the action's pseudo-terminal; empty: it has none. */
    public Optional<PtySize> pty() {
        return Optional.ofNullable(pty);
    }

    /** The action's resource limits ({@link Limits#NONE} unless set). */
    public Limits limits() {
        return limits;
    }

    @Override
    public String toString() {
        return "Action" + command;
    }

    /** Builds {@link Action}s. Not thread-safe; the actions it builds are. */
    public static final class Builder {
        private List<String> command;
        private Map<String, String> environment;
        private Path directory;
        private Duration timeout;
        private Duration killGrace = DEFAULT_KILL_GRACE;
        private Stdio stdin = Stdio.discard();
        private Stdio stdout = Stdio.inherit();
        private Stdio stderr = Stdio.inherit();
        private Sandbox sandbox;
        private PtySize pty;
        private Limits limits = Limits.NONE;

        private Builder(List<String> command) {
            command(command);
        }

        /** The program and its arguments; the program is looked up in the action's PATH. */
        public Builder command(List<String> command) {
            Objects.requireNonNull(command, "command");
            if (command.isEmpty()) throw new IllegalArgumentException("an action needs a command; got an empty list");
            for (String arg : command)
                if (Objects.requireNonNull(arg, "command element").indexOf('\0') >= 0)
                    throw new IllegalArgumentException("command arguments cannot contain NUL: " + command);
            this.command = List.copyOf(command);
            return this;
        }

        /** Replaces the whole environment. */
        public Builder environment(Map<String, String> environment) {
            this.environment = new LinkedHashMap<>(Objects.requireNonNull(environment, "environment"));
            return this;
        }

        /** Sets one variable, starting from the JVM's environment if none was set yet. */
        public Builder env(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0)
                throw new IllegalArgumentException("not an environment variable name: '" + name + "'");
            if (value.indexOf('\0') >= 0) throw new IllegalArgumentException("environment values cannot contain NUL");
            if (environment == null) environment = new LinkedHashMap<>(System.getenv());
            environment.put(name, value);
            return this;
        }

        public Builder directory(Path directory) {
            this.directory = directory;
            return this;
        }

        /** After this long the action's tree gets SIGTERM, then SIGKILL after the grace period; null for none. */
        public Builder timeout(Duration timeout) {
            if (timeout != null && (timeout.isNegative() || timeout.isZero()))
                throw new IllegalArgumentException("timeout must be positive, got " + timeout);
            this.timeout = timeout;
            return this;
        }

        public Builder killGrace(Duration killGrace) {
            Objects.requireNonNull(killGrace, "killGrace");
            if (killGrace.isNegative()) throw new IllegalArgumentException("kill grace must not be negative, got " + killGrace);
            this.killGrace = killGrace;
            return this;
        }

        public Builder stdin(Stdio stdin) {
            Objects.requireNonNull(stdin, "stdin");
            if (stdin.kind() == Stdio.Kind.APPEND) throw new IllegalArgumentException("stdin cannot be appended to; use Stdio.file");
            this.stdin = stdin;
            return this;
        }

        public Builder stdout(Stdio stdout) {
            this.stdout = Objects.requireNonNull(stdout, "stdout");
            return this;
        }

        public Builder stderr(Stdio stderr) {
            this.stderr = Objects.requireNonNull(stderr, "stderr");
            return this;
        }

        /** Runs the action in this sandbox; null for none (the default). */
        public Builder sandbox(Sandbox sandbox) {
            this.sandbox = sandbox;
            return this;
        }

        /**
         * Runs the action under a fresh pseudo-terminal of this size: its stdin, stdout and stderr
         * are the terminal (the stdin, stdout and stderr settings are ignored), it is the
         * terminal's session and foreground job, and {@link Execution#pty()} is the other end.
         * Null for none (the default).
         */
        public Builder pty(PtySize size) {
            this.pty = size;
            return this;
        }

        /** Resource limits for the action and everything it starts; see {@link Limits}. */
        public Builder limits(Limits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * @throws IllegalArgumentException when the sandbox's input root does not contain the
         *                                  working directory, or a process limit is set without a
         *                                  sandbox
         */
        public Action build() {
            if (sandbox != null && directory != null) sandbox.directoryInside(directory);
            if (limits.processes().isPresent() && sandbox == null)
                throw new IllegalArgumentException("a process limit needs a sandbox: outside one, RLIMIT_NPROC "
                        + "counts every process of the user, the caller's own threads included");
            return new Action(this);
        }
    }
}
