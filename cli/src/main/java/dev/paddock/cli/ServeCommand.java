package dev.paddock.cli;

import dev.paddock.Limits;
import dev.paddock.Sandbox;
import dev.paddock.remote.RemoteServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code paddock serve}: a Remote Execution API v2 server running actions in paddock's sandbox. */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Serve the Remote Execution API v2 (gRPC) on one machine: content store,",
            "action cache and execution, with every action run in paddock's rootless",
            "sandbox. Bazel, Buck2, Pants, BuildStream and recc can build against it.",
            "",
            "Blobs and action results are kept on disk under --cache-dir and survive",
            "restarts; least recently used blobs are evicted past --max-cache-size.",
            "One line is logged per action; SIGTERM (or Ctrl-C) stops the server, and",
            "cancels queued and running actions, whose processes are killed.",
            "",
            "Every action runs under limits (--action-*); its platform properties",
            "paddock.memory, paddock.processes, paddock.cpu-time and paddock.file-size",
            "may lower them for that action, never raise them.",
        },
        footer = {
            "",
            "Examples:",
            "  paddock serve --listen 127.0.0.1:8980",
            "  bazel build --remote_executor=grpc://127.0.0.1:8980 //...",
            "  paddock serve --listen 0.0.0.0:8980 --tls-cert server.pem --tls-key server.key \\",
            "      --tls-client-ca clients-ca.pem",
            "  paddock serve --listen unix:/run/paddock/reapi.sock",
            "  paddock serve --workers 8 --max-cache-size 50G --ro /opt/toolchains \\",
            "      --metrics 127.0.0.1:9090",
            "",
            "docs/remote.md explains the configuration and the limits.",
        })
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--listen", paramLabel = "HOST:PORT|unix:PATH", defaultValue = "127.0.0.1:8980", description =
            "Where to accept gRPC connections (default ${DEFAULT-VALUE}; port 0 picks a free one). A " +
            "non-loopback address needs --tls-cert and --tls-key, or --insecure. unix:PATH listens on a " +
            "unix socket instead (a stale socket there is replaced).")
    String listen;

    @Option(names = "--socket-mode", paramLabel = "OCTAL", defaultValue = "0600", description =
            "The unix socket's permissions (default ${DEFAULT-VALUE}: only this user; 0660 lets the " +
            "socket's group connect).")
    String socketMode;

    @Option(names = "--tls-cert", paramLabel = "FILE", description =
            "Serve TLS (grpcs://) with this PEM certificate chain; needs --tls-key.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description =
            "The PEM private key (unencrypted, PKCS#8 or PKCS#1) of --tls-cert.")
    Path tlsKey;

    @Option(names = "--tls-client-ca", paramLabel = "FILE", description =
            "Mutual TLS: admit only clients whose certificate one of these PEM CA certificates signed.")
    Path tlsClientCa;

    @Option(names = "--insecure", description =
            "Allow a non-loopback --listen address without TLS. Anyone who reaches it can run commands " +
            "as this user and read or replace every build's inputs and outputs.")
    boolean insecure;

    @Option(names = "--cache-dir", paramLabel = "DIR", description =
            "Where blobs, action results and input roots live (default: 'remote' in paddock's " +
            "cache directory: $XDG_CACHE_HOME/paddock, ~/.cache/paddock, or a private " +
            "/tmp/paddock-UID for users without a writable home).")
    Path cacheDir;

    @Option(names = "--max-cache-size", paramLabel = "SIZE", defaultValue = "10G", description =
            "Evict least recently used blobs past SIZE (bytes, or with K, M, G or T; default " +
            "${DEFAULT-VALUE}). Blobs a running action uses are never evicted. Unfinished uploads " +
            "may hold as much again; past that, idle ones are removed, oldest first.")
    String maxCacheSize;

    @Option(names = "--workers", paramLabel = "N", description =
            "Run at most N actions at once; the rest queue (default: one per CPU).")
    Integer workers;

    @Option(names = "--sandbox", paramLabel = "MODE", defaultValue = "auto", description =
            "auto (the default): sandbox every action, degrading a step where the host refuses it" +
            " (see 'paddock doctor'); required: fail such actions with the cause instead; off: " +
            "run actions contained but not sandboxed.")
    String sandbox;

    @Option(names = "--host-root", description =
            "Show actions the whole host read-only instead of only the system directories (/usr, " +
            "/bin, /lib*, /etc), --ro paths and the input root.")
    boolean hostRoot;

    @Option(names = "--ro", paramLabel = "DIR", description =
            "Also show actions DIR read-only, such as a toolchain (repeatable).")
    List<Path> readOnly = List.of();

    @Option(names = "--network", paramLabel = "none|loopback|shared|host", defaultValue = "loopback", description =
            "The actions' network: loopback (own namespace with only lo; the default), none, " +
            "shared (one loopback namespace for all: cheaper, but actions see each other on lo) " +
            "or host.")
    String network;

    @Option(names = "--allow-client-ac-writes", description =
            "Let clients store results of actions they ran themselves (UpdateActionResult). Off by default: " +
            "any client could then hand every other build its own outputs as cache hits. A result of an " +
            "action the server ran is never replaced.")
    boolean allowClientAcWrites;

    @Option(names = "--action-memory", paramLabel = "SIZE|none", description =
            "The memory each process of an action may allocate (RLIMIT_DATA; default: half this machine's).")
    String actionMemory;

    @Option(names = "--action-processes", paramLabel = "N|none", description =
            "Processes an action may have at once (sandboxed actions only; default 4096).")
    String actionProcesses;

    @Option(names = "--action-cpu-time", paramLabel = "DURATION|none", description =
            "CPU time per process of an action (RLIMIT_CPU; default none: the action's timeout bounds it).")
    String actionCpuTime;

    @Option(names = "--action-file-size", paramLabel = "SIZE|none", description =
            "The largest file an action may write (RLIMIT_FSIZE; default: --max-cache-size).")
    String actionFileSize;

    @Option(names = "--metrics", paramLabel = "HOST:PORT", description =
            "Serve Prometheus metrics at http://HOST:PORT/metrics.")
    String metrics;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The server's defaults, each replaced by its --action-* option ("none": no limit). */
    private Limits actionLimits(long maxCacheBytes, boolean sandboxed) {
        Limits d = RemoteServer.defaultLimits(maxCacheBytes, sandboxed);
        OptionalLong memory = actionMemory == null ? d.memoryBytes()
                : actionMemory.equals("none") ? OptionalLong.empty()
                : OptionalLong.of(OptionValues.size(spec, actionMemory, "--action-memory"));
        OptionalInt processes = d.processes();
        if (actionProcesses != null) {
            if (actionProcesses.equals("none")) processes = OptionalInt.empty();
            else {
                try {
                    processes = OptionalInt.of(Integer.parseInt(actionProcesses));
                    if (processes.getAsInt() < 1) throw new NumberFormatException();
                } catch (NumberFormatException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "--action-processes '" + actionProcesses + "' must be a positive whole number or none");
                }
                if (!sandboxed) throw new CommandLine.ParameterException(spec.commandLine(), "--action-processes "
                        + "needs a sandbox: with --sandbox off, RLIMIT_NPROC counts every process of this user");
            }
        }
        Optional<Duration> cpu = d.cpuTime();
        if (actionCpuTime != null) {
            if (actionCpuTime.equals("none")) cpu = Optional.empty();
            else {
                Duration t;
                try {
                    t = Durations.parse(actionCpuTime);
                } catch (CommandLine.TypeConversionException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--action-cpu-time " + e.getMessage());
                }
                if (t.isZero()) throw new CommandLine.ParameterException(spec.commandLine(),
                        "--action-cpu-time must be longer than 0");
                cpu = Optional.of(t);
            }
        }
        OptionalLong fileSize = actionFileSize == null ? d.fileSizeBytes()
                : actionFileSize.equals("none") ? OptionalLong.empty()
                : OptionalLong.of(OptionValues.size(spec, actionFileSize, "--action-file-size"));
        return new Limits(memory, processes, cpu, fileSize);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        RemoteServer.Builder b = RemoteServer.newBuilder()
                .maxCacheBytes(OptionValues.size(spec, maxCacheSize, "--max-cache-size"))
                .network(OptionValues.enumOption(spec, Sandbox.Network.class, network, "--network"))
                .sandboxBase(hostRoot ? Sandbox.Base.HOST_READ_ONLY : Sandbox.Base.HERMETIC)
                .allowClientActionCacheWrites(allowClientAcWrites)
                .log(line -> {
                    out.println(LocalTime.now().truncatedTo(ChronoUnit.MILLIS).format(DateTimeFormatter.ISO_LOCAL_TIME) + " " + line);
                    out.flush();
                });
        switch (sandbox) {
            case "auto" -> b.sandbox(Sandbox.Mode.AUTO);
            case "required" -> b.sandbox(Sandbox.Mode.REQUIRED);
            case "off" -> b.sandbox(null);
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--sandbox must be auto, required or off, not '" + sandbox + "'");
        }
        if (workers != null) {
            if (workers < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--workers must be at least 1, not " + workers);
            b.workers(workers);
        }
        Optional<Path> socket = OptionValues.unixSocket(spec, listen, "--listen");
        if (socket.isPresent()) b.listenUnix(socket.get()).socketMode(OptionValues.socketMode(spec, socketMode));
        else if (spec.commandLine().getParseResult().hasMatchedOption("--socket-mode"))
            throw new CommandLine.ParameterException(spec.commandLine(), "--socket-mode applies to a unix socket "
                    + "(--listen unix:PATH), not to " + listen);
        else b.listen(OptionValues.address(spec, listen, "--listen"));
        if ((tlsCert == null) != (tlsKey == null))
            throw new CommandLine.ParameterException(spec.commandLine(), "TLS needs both --tls-cert and --tls-key");
        if (tlsCert != null) b.tls(tlsCert, tlsKey);
        if (tlsClientCa != null) b.tlsClientCa(tlsClientCa);
        b.insecure(insecure);
        if (cacheDir != null) b.cacheDir(cacheDir);
        Limits limits = actionLimits(OptionValues.size(spec, maxCacheSize, "--max-cache-size"), !sandbox.equals("off"));
        b.actionLimits(limits);
        if (metrics != null) b.metricsListen(OptionValues.address(spec, metrics, "--metrics"));
        for (Path p : readOnly) b.readOnly(p);

        CountDownLatch stopped = new CountDownLatch(1);
        RemoteServer built;
        try {
            built = b.build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        try (RemoteServer server = built) {
            server.start();
            String where = server.address();
            String url = socket.isPresent() ? where : (server.tls() ? "grpcs://" : "grpc://") + where;
            out.println("paddock serve: listening on " + where + " (REAPI v2, " + url
                    + (server.tls() ? (tlsClientCa != null ? ", TLS with client certificates" : ", TLS") : "") + ")");
            out.println("paddock serve: cache " + server.cacheDir() + " (limit " + maxCacheSize + "), workers "
                    + (workers == null ? Runtime.getRuntime().availableProcessors() : workers) + ", sandbox " + sandbox
                    + (sandbox.equals("off") ? "" : (hostRoot ? ", host root read-only" : ", hermetic")));
            out.println("paddock serve: action limits: " + limits.describe());
            server.metricsPort().ifPresent(p -> out.println("paddock serve: metrics at http://"
                    + OptionValues.address(spec, metrics, "--metrics").getHostString() + ":" + p + "/metrics"));
            out.println("paddock serve: build with: bazel build " + (socket.isPresent()
                    ? "--remote_executor=grpc://localhost --remote_proxy=" + where
                    : "--remote_executor=" + url + (server.tls() ? " --tls_certificate=CA.pem" : "")
                            + (tlsClientCa != null ? " --tls_client_certificate=CERT --tls_client_key=KEY" : ""))
                    + " ...");
            out.flush();
            Thread hook = new Thread(() -> {
                out.println("paddock serve: stopping: cancelling queued and running actions");
                out.flush();
                try {
                    server.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                stopped.countDown();
            }, "paddock-serve-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            server.awaitTermination();
            stopped.await();
        }
        return 0;
    }
}
