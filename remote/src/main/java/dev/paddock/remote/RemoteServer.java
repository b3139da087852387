package dev.paddock.remote;

import dev.paddock.Limits;
import dev.paddock.Paddock;
import dev.paddock.Sandbox;
import dev.paddock.internal.NativeBinaries;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;

/**
 * A Remote Execution API v2 server: content store, action cache and execution in one process,
 * with actions run through paddock's sandbox. {@link #start()} listens on the configured address;
 * {@link #services()} gives the same services for an in-process channel.
 *
 * <pre>{@code
 * try (RemoteServer server = RemoteServer.newBuilder().listen(new InetSocketAddress("127.0.0.1", 8980)).build()) {
 *     server.start();
 *     server.awaitTermination();
 * }
 * }</pre>
 */
public final class RemoteServer implements AutoCloseable {
    /** The default --max-cache-size: 10 GiB. */
    public static final long DEFAULT_MAX_CACHE_BYTES = 10L << 30;

    private final Builder config;
    private final Paddock paddock;
    private final BlobStore blobs;
    private final Metrics metrics;
    private final ExecutionService execution;
    private final List<BindableService> services;
    private final FileChannel lock;
    private UnixSocketListener unixListener;
    /** The --ro directories' real paths, each shown at the path it was given as. */
    private final Map<Path, Path> readOnly = new LinkedHashMap<>();
    private Server server;
    private HTTPServer metricsServer;
    private boolean closed;

    private RemoteServer(Builder b) throws IOException {
        this.config = b;
        Files.createDirectories(b.cacheDir);
        // Sandboxes follow no symbolic link in a bind (a planted one could redirect it): the server
        // names its own directories by their real paths.
        Path dir = b.cacheDir.toRealPath();
        readOnly.putAll(FileTrees.byRealPath(b.readOnly));
        // Blobs, results and input roots are the builds' sources and outputs: the serving user's only.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        lock = lockCacheDir(dir);
        blobs = new BlobStore(dir, b.maxCacheBytes);
        metrics = new Metrics(blobs::sizeBytes, b.maxCacheBytes);
        ActionCacheStore cache = new ActionCacheStore(dir.resolve("ac"), blobs);
        paddock = Paddock.create();
        ActionRunner runner = new ActionRunner(blobs, cache, paddock, dir.resolve("work"), this::sandboxFor,
                new InputTrees(dir.resolve("trees"), blobs, b.inputTreesKept),
                b.actionLimits != null ? b.actionLimits : defaultLimits(b.maxCacheBytes, b.sandbox != null));
        execution = new ExecutionService(cache, runner, b.workers, metrics, b.log);
        services = List.of(new Capabilities(b.clientActionCacheWrites), new CasService(blobs),
                new ByteStreamService(blobs, new PartialUploads(dir.resolve("uploads"), b.maxCacheBytes,
                        PartialUploads.ABANDONED_AGE, b.uploadSweepInterval)),
                new ActionCacheService(cache, metrics, b.log, b.clientActionCacheWrites), execution);
    }

    public static Builder newBuilder() {
        return new Builder();
    }

    /** The services, for tests and embedders that run their own gRPC server. */
    public List<BindableService> services() {
        return services;
    }

    /** Starts listening (and serving metrics, if configured); returns the port, useful when it was 0. */
    public int start() throws IOException {
        NettyServerBuilder b;
        if (config.unixSocket != null) {
            unixListener = UnixSocketListener.at(config.unixSocket, config.socketMode);
            b = unixListener.serverBuilder();
        } else {
            b = NettyServerBuilder.forAddress(config.listen);
        }
        if (config.tlsCertificate != null) b.sslContext(sslContext());
        server = b.maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .addServices(new ArrayList<>(services.stream().map(BindableService::bindService).toList()))
                .build().start();
        if (unixListener != null) unixListener.publish();
        if (config.metricsListen != null) {
            metricsServer = HTTPServer.builder().hostname(config.metricsListen.getHostString())
                    .port(config.metricsListen.getPort()).registry(metrics.registry).buildAndStart();
        }
        return port();
    }

    private SslContext sslContext() throws IOException {
        for (Path p : java.util.stream.Stream.of(config.tlsCertificate, config.tlsKey, config.tlsClientCa)
                .filter(Objects::nonNull).toList())
            if (!Files.isReadable(p)) throw new IOException("cannot read the TLS file " + p);
        try {
            SslContextBuilder ssl = GrpcSslContexts.forServer(config.tlsCertificate.toFile(), config.tlsKey.toFile());
            if (config.tlsClientCa != null)
                ssl.trustManager(config.tlsClientCa.toFile()).clientAuth(ClientAuth.REQUIRE);
            return ssl.build();
        } catch (IllegalArgumentException | SSLException e) {
            throw new IOException("cannot use the TLS certificate " + config.tlsCertificate + " with key "
                    + config.tlsKey + (config.tlsClientCa == null ? "" : " and client CA " + config.tlsClientCa)
                    + ": " + e.getMessage() + " (PEM files are expected: a certificate chain, and an unencrypted "
                    + "private key, PKCS#8 or PKCS#1)", e);
        }
    }

    /** Where the server listens, for messages: host:port or unix:PATH. */
    public String address() {
        if (config.unixSocket != null) return "unix:" + config.unixSocket;
        return config.listen.getHostString() + ":" + port();
    }

    /** Whether clients must use TLS ({@code grpcs://}). */
    public boolean tls() {
        return config.tlsCertificate != null;
    }

    /** Inbound messages up to this size: a full batch plus its framing. */
    static final int MAX_MESSAGE_BYTES = (int) Capabilities.MAX_BATCH_BYTES + (1 << 20);

    /** The TCP port listened on, or -1 on a unix socket. */
    public int port() {
        return config.unixSocket != null ? -1 : server.getPort();
    }

    /** The metrics endpoint's port, when metrics are served. */
    public Optional<Integer> metricsPort() {
        return metricsServer == null ? Optional.empty() : Optional.of(metricsServer.getPort());
    }

    public Path cacheDir() {
        return config.cacheDir;
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /**
     * Stops accepting calls, cancels queued and running actions (their process trees are killed),
     * and releases everything. Blobs and results already stored stay on disk.
     */
    @Override
    public synchronized void close() throws InterruptedException {
        if (closed) return;
        closed = true;
        if (server != null) server.shutdown();
        execution.close();
        paddock.close();
        if (server != null && !server.awaitTermination(5, TimeUnit.SECONDS)) server.shutdownNow();
        if (metricsServer != null) metricsServer.close();
        if (unixListener != null) unixListener.close();
        try {
            lock.close();
        } catch (IOException e) {
            // the lock goes with the process anyway
        }
    }

    /**
     * One server per cache directory: a second one would empty the first one's input roots and
     * partial writes at start. The lock is released when the process ends, however it ends.
     */
    private static FileChannel lockCacheDir(Path dir) throws IOException {
        FileChannel ch = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        boolean locked;
        try {
            locked = ch.tryLock() != null;
        } catch (java.nio.channels.OverlappingFileLockException e) {
            locked = false; // a server in this JVM holds it
        }
        if (!locked) {
            ch.close();
            throw new IOException("another paddock serve is using the cache directory " + dir
                    + "; stop it, or give this one its own --cache-dir");
        }
        return ch;
    }

    /** Processes of an action at once, by default. */
    public static final int DEFAULT_ACTION_PROCESSES = 4096;

    /**
     * The limits an action gets unless told: each process may allocate half the machine's memory,
     * {@value #DEFAULT_ACTION_PROCESSES} processes at once (in a sandbox), and no file larger than
     * the cache could hold; no CPU time limit (the action's timeout bounds its time).
     */
    public static Limits defaultLimits(long maxCacheBytes, boolean sandboxed) {
        Limits.Builder b = Limits.newBuilder().fileSizeBytes(maxCacheBytes);
        long memory = totalMemoryBytes() / 2;
        if (memory > 0) b.memoryBytes(memory);
        if (sandboxed) b.processes(DEFAULT_ACTION_PROCESSES);
        return b.build();
    }

    private static long totalMemoryBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo")))
                if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        } catch (IOException | NumberFormatException e) {
            // no /proc/meminfo: no memory limit by default
        }
        return 0;
    }

    private Optional<Sandbox.Builder> sandboxFor(Path inputRoot) {
        if (config.sandbox == null) return Optional.empty();
        Sandbox.Builder b = Sandbox.newBuilder(config.sandboxBase).mode(config.sandbox).network(config.network);
        readOnly.forEach(b::readOnly);
        b.writable(inputRoot, inputRoot);
        return Optional.of(b);
    }

    /** Configures a {@link RemoteServer}; every setting has a default. */
    public static final class Builder {
        private InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 8980);
        private Path unixSocket;
        private Set<PosixFilePermission> socketMode = PosixFilePermissions.fromString("rw-------");
        private Path tlsCertificate;
        private Path tlsKey;
        private Path tlsClientCa;
        private boolean insecure;
        private Limits actionLimits;
        private InetSocketAddress metricsListen;
        private Path cacheDir;
        private long maxCacheBytes = DEFAULT_MAX_CACHE_BYTES;
        private int workers = Runtime.getRuntime().availableProcessors();
        private Sandbox.Mode sandbox = Sandbox.Mode.AUTO;
        private Sandbox.Base sandboxBase = Sandbox.Base.HERMETIC;
        private Sandbox.Network network = Sandbox.Network.LOOPBACK;
        private final List<Path> readOnly = new ArrayList<>();
        private Consumer<String> log = line -> {};
        private boolean clientActionCacheWrites;
        private Duration uploadSweepInterval = PartialUploads.SWEEP_INTERVAL;
        private int inputTreesKept = InputTrees.DEFAULT_MAX_TREES;

        private Builder() {}

        /** A TCP address to listen on (default 127.0.0.1:8980; port 0 picks a free one). */
        public Builder listen(InetSocketAddress address) {
            this.listen = Objects.requireNonNull(address, "address");
            this.unixSocket = null;
            return this;
        }

        /** A unix socket to listen on instead of TCP; a socket a dead server left there is replaced. */
        public Builder listenUnix(Path socket) {
            this.unixSocket = socket.toAbsolutePath().normalize();
            this.listen = null;
            return this;
        }

        /** The unix socket's mode (default 0600: only the serving user may connect). */
        public Builder socketMode(Set<PosixFilePermission> mode) {
            this.socketMode = Set.copyOf(mode);
            return this;
        }

        /** TLS with this certificate chain and private key (PEM files). */
        public Builder tls(Path certificateChain, Path privateKey) {
            this.tlsCertificate = certificateChain.toAbsolutePath();
            this.tlsKey = privateKey.toAbsolutePath();
            return this;
        }

        /** Mutual TLS: clients must present a certificate signed by one of these CAs (a PEM file). */
        public Builder tlsClientCa(Path caCertificates) {
            this.tlsClientCa = caCertificates.toAbsolutePath();
            return this;
        }

        /**
         * Lets the server listen on a non-loopback TCP address without TLS. Without it that is
         * refused: anyone who reaches the port could run commands as the serving user and read
         * every build's sources and outputs.
         */
        public Builder insecure(boolean insecure) {
            this.insecure = insecure;
            return this;
        }

        /** Serves Prometheus metrics over HTTP at address (path /metrics); off by default. */
        public Builder metricsListen(InetSocketAddress address) {
            this.metricsListen = address;
            return this;
        }

        /** Where blobs, results and input roots live; default: "remote" in paddock's per-user cache directory. */
        public Builder cacheDir(Path dir) {
            this.cacheDir = dir.toAbsolutePath().normalize();
            return this;
        }

        public Builder maxCacheBytes(long bytes) {
            if (bytes <= 0) throw new IllegalArgumentException("the cache size must be positive, not " + bytes);
            this.maxCacheBytes = bytes;
            return this;
        }

        /** How many actions run at once; the rest wait in a queue. Default: one per CPU. */
        public Builder workers(int n) {
            if (n < 1) throw new IllegalArgumentException("workers must be at least 1, not " + n);
            this.workers = n;
            return this;
        }

        /** The sandbox mode for actions, or null to run them contained but not sandboxed. Default AUTO. */
        public Builder sandbox(Sandbox.Mode mode) {
            this.sandbox = mode;
            return this;
        }

        /** What the sandbox shows of the host: default HERMETIC (system directories, toolchains, input root). */
        public Builder sandboxBase(Sandbox.Base base) {
            this.sandboxBase = Objects.requireNonNull(base, "base");
            return this;
        }

        public Builder network(Sandbox.Network network) {
            this.network = Objects.requireNonNull(network, "network");
            return this;
        }

        /** A host directory actions see read-only at the same path, such as a toolchain. */
        public Builder readOnly(Path dir) {
            readOnly.add(dir.toAbsolutePath().normalize());
            return this;
        }

        /**
         * Whether clients may store action results (UpdateActionResult) of actions they ran
         * themselves; default no, because any client could then plant outputs that other builds
         * take as cache hits. Results of actions the server ran are never replaced by a client's.
         */
        public Builder allowClientActionCacheWrites(boolean allow) {
            this.clientActionCacheWrites = allow;
            return this;
        }

        /**
         * Every action's limits, which its platform properties may lower (see docs/remote.md).
         * Default: {@link #defaultLimits}.
         */
        public Builder actionLimits(Limits limits) {
            this.actionLimits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /** Receives one line per completed action. */
        public Builder log(Consumer<String> log) {
            this.log = Objects.requireNonNull(log, "log");
            return this;
        }

        /** How often at most idle partial uploads are looked at for their age; tests look every time. */
        /** How many laid-out input subtrees nobody uses are kept; tests keep few. */
        Builder inputTreesKept(int trees) {
            this.inputTreesKept = trees;
            return this;
        }

        Builder uploadSweepInterval(Duration interval) {
            this.uploadSweepInterval = Objects.requireNonNull(interval, "interval");
            return this;
        }

        public RemoteServer build() throws IOException {
            if (tlsClientCa != null && tlsCertificate == null)
                throw new IllegalArgumentException("client certificates (--tls-client-ca) need TLS: give the server's "
                        + "--tls-cert and --tls-key too");
            if (listen != null && !listen.getAddress().isLoopbackAddress() && tlsCertificate == null && !insecure)
                throw new IllegalArgumentException("refusing to listen on " + listen.getHostString() + ":"
                        + listen.getPort() + " without TLS: anyone who can reach it could run commands as this user "
                        + "and read or replace every build's inputs and outputs. Give --tls-cert and --tls-key (with "
                        + "--tls-client-ca to admit only clients with a certificate), listen on a loopback address or "
                        + "a unix socket (--listen unix:PATH), or pass --insecure on a network you trust");
            if (cacheDir == null) cacheDir = NativeBinaries.cacheDirectory().resolve("remote");
            return new RemoteServer(this);
        }
    }
}
