package dev.paddock.remote;

import dev.paddock.Paddock;
import dev.paddock.Sandbox;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code paddock runner}: Buildbarn's runner protocol, so that bb_worker runs its actions in
 * paddock's sandbox, each with its input root as {@code /}, a fresh /proc, a minimal /dev and its
 * temporary directory as /tmp. bb_worker connects over a unix socket
 * ({@code runners[].endpoint.address: 'unix:///path'}).
 *
 * <pre>{@code
 * try (RunnerServer runner = RunnerServer.newBuilder().unixSocket(Path.of("/run/paddock/runner"))
 *         .buildDirectory(Path.of("/worker/build")).build()) {
 *     runner.start();
 *     runner.awaitTermination();
 * }
 * }</pre>
 */
public final class RunnerServer implements AutoCloseable {
    private final Builder config;
    private final Paddock paddock;
    private UnixSocketListener unixListener;
    /** The --ro directories' real paths, each shown at the path it was given as. */
    private final Map<Path, Path> readOnly = new LinkedHashMap<>();
    private Server server;
    private Trash trash;

    private RunnerServer(Builder b) throws IOException {
        this.config = b;
        this.paddock = Paddock.create();
    }

    public static Builder newBuilder() {
        return new Builder();
    }

    /** Starts listening; for a TCP address, returns the port (useful when it was 0), else 0. */
    public int start() throws IOException {
        Path build = config.buildDirectory.toRealPath();
        // Sandboxes follow no symbolic link in a bind: --ro directories by their real paths.
        readOnly.putAll(FileTrees.byRealPath(config.readOnly));
        // The mount points an action made in its input root go to a trash in the same file system.
        trash = new Trash(build, config.log);
        RunnerService service = new RunnerService(build, paddock, config.concurrency, this::sandboxFor, trash,
                config.log);
        NettyServerBuilder b;
        if (config.unixSocket != null) {
            unixListener = UnixSocketListener.at(config.unixSocket, config.socketMode);
            b = unixListener.serverBuilder();
        } else {
            b = NettyServerBuilder.forAddress(config.tcp);
        }
        // Calls only check their request and start the action (the answer comes when it ends), so
        // they run on the event loop: no hand-off to another thread on the way in.
        server = b.directExecutor().addService(service).build().start();
        if (unixListener != null) {
            unixListener.publish();
            return 0;
        }
        return ((InetSocketAddress) server.getListenSockets().getFirst()).getPort();
    }

    private Sandbox.Builder sandboxFor(Path inputRoot) {
        Sandbox.Builder s = Sandbox.inputRoot(inputRoot).network(config.network).mode(config.mode);
        if (config.systemDirectories) s.systemDirectories();
        for (Map.Entry<Path, Path> dir : readOnly.entrySet()) s.readOnly(dir.getKey(), dir.getValue());
        return s;
    }

    /** Waits until the mount points removed from input roots so far have been deleted (for tests). */
    void awaitTrashDeleted() throws InterruptedException {
        trash.awaitDeleted();
    }

    /** The address actually listened on, for messages. */
    public SocketAddress address() {
        return config.unixSocket != null ? new DomainSocketAddress(config.unixSocket.toString()) : config.tcp;
    }

    public void awaitTermination() throws InterruptedException {
        if (server != null) server.awaitTermination();
    }

    /** Stops accepting calls, cancels the running ones (their process trees are killed) and waits. */
    @Override
    public void close() throws InterruptedException {
        if (server != null) {
            server.shutdownNow();
            server.awaitTermination(30, TimeUnit.SECONDS);
        }
        if (unixListener != null) unixListener.close();
        if (trash != null) trash.close();
        paddock.close();
    }

    /** Configures a {@link RunnerServer}. */
    public static final class Builder {
        private Path unixSocket;
        private InetSocketAddress tcp;
        private Set<PosixFilePermission> socketMode = PosixFilePermissions.fromString("rw-------");
        private Path buildDirectory = Path.of("");
        private int concurrency = Runtime.getRuntime().availableProcessors();
        private final List<Path> readOnly = new ArrayList<>();
        private boolean systemDirectories = true;
        private Sandbox.Network network = Sandbox.Network.LOOPBACK;
        private Sandbox.Mode mode = Sandbox.Mode.AUTO;
        private Consumer<String> log = line -> {};

        private Builder() {}

        /** Listen on a unix socket at path (replacing a stale socket left there). */
        public Builder unixSocket(Path path) {
            this.unixSocket = Objects.requireNonNull(path, "path");
            this.tcp = null;
            return this;
        }

        /** The unix socket's permissions (default rw-------: only this user may run actions). */
        public Builder socketMode(Set<PosixFilePermission> mode) {
            this.socketMode = Set.copyOf(mode);
            return this;
        }

        /** Listen on TCP instead (for a bb_worker in another network namespace, say). */
        public Builder listen(InetSocketAddress address) {
            this.tcp = Objects.requireNonNull(address, "address");
            this.unixSocket = null;
            return this;
        }

        /** The directory bb_worker's paths are relative to (its buildDirectories[].native.buildDirectoryPath). */
        public Builder buildDirectory(Path dir) {
            this.buildDirectory = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /** At most n actions at once; further calls wait. */
        public Builder concurrency(int n) {
            if (n < 1) throw new IllegalArgumentException("concurrency must be at least 1, not " + n);
            this.concurrency = n;
            return this;
        }

        /** A host directory every action sees read-only at the same path (a toolchain, say). */
        public Builder readOnly(Path dir) {
            readOnly.add(dir.toAbsolutePath().normalize());
            return this;
        }

        /** Whether actions see the host's /usr, /bin, /lib*, /etc read-only (default: yes). */
        public Builder systemDirectories(boolean yes) {
            this.systemDirectories = yes;
            return this;
        }

        public Builder network(Sandbox.Network network) {
            this.network = Objects.requireNonNull(network, "network");
            return this;
        }

        public Builder mode(Sandbox.Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * Receives one line per action, as its call is answered, on paddock's supervisor thread:
         * it must not block (hand the line to a thread of its own to print or store it).
         */
        public Builder log(Consumer<String> log) {
            this.log = Objects.requireNonNull(log, "log");
            return this;
        }

        public RunnerServer build() throws IOException {
            if (unixSocket == null && tcp == null)
                throw new IllegalStateException("a runner listens on a unix socket or a TCP address: set one");
            if (!Files.isDirectory(buildDirectory))
                throw new IOException("the build directory " + buildDirectory.toAbsolutePath() + " is not a directory");
            return new RunnerServer(this);
        }
    }
}
