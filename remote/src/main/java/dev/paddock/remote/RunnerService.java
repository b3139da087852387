package dev.paddock.remote;

import buildbarn.resourceusage.POSIXResourceUsage;
import buildbarn.runner.CheckReadinessRequest;
import buildbarn.runner.RunRequest;
import buildbarn.runner.RunResponse;
import buildbarn.runner.RunnerGrpc;
import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.Empty;
import dev.paddock.Action;
import dev.paddock.Execution;
import dev.paddock.Outcome;
import dev.paddock.Paddock;
import dev.paddock.ResourceUsage;
import dev.paddock.Sandbox;
import dev.paddock.SetupFailure;
import dev.paddock.Stdio;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Buildbarn's runner protocol ({@code buildbarn.runner.Runner}): bb_worker lays out an action's
 * input root in its build directory and calls {@code Run}; paddock runs the action with that input
 * root as the sandbox's {@code /}. Paths in requests are relative to the build directory.
 */
final class RunnerService extends RunnerGrpc.RunnerImplBase {
    private final Path buildDirectory;
    private final Paddock paddock;
    private final Slots slots;
    private final Function<Path, Sandbox.Builder> sandboxFor;
    private final Consumer<String> log;
    private final Trash trash;
    /** Answers that need file system work, and starting queued actions: never on paddock's supervisor thread. */
    private final Executor blocking = Executors.newVirtualThreadPerTaskExecutor();

    /**
     * @param buildDirectory the directory request paths are relative to (its real path)
     * @param sandboxFor     the sandbox for an input root, before the temporary directory is set
     */
    RunnerService(Path buildDirectory, Paddock paddock, int concurrency, Function<Path, Sandbox.Builder> sandboxFor,
            Trash trash, Consumer<String> log) {
        this.buildDirectory = buildDirectory;
        this.paddock = paddock;
        this.slots = new Slots(concurrency, blocking);
        this.sandboxFor = sandboxFor;
        this.trash = trash;
        this.log = log;
    }

    @Override
    public void checkReadiness(CheckReadinessRequest request, StreamObserver<Empty> response) {
        try {
            Path p = new RequestPaths().resolve(request.getPath(), "path");
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS))
                throw Status.INTERNAL.withDescription("path '" + request.getPath() + "' does not exist in the build "
                        + "directory " + buildDirectory).asRuntimeException();
            response.onNext(Empty.getDefaultInstance());
            response.onCompleted();
        } catch (StatusRuntimeException e) {
            response.onError(e);
        }
    }

    /**
     * Checks the request and queues the action; the response is sent when it ends. Nothing here
     * waits for the action: a call costs no thread while its action runs, and no hand-off between
     * threads on its way back.
     */
    @Override
    public void run(RunRequest request, StreamObserver<RunResponse> response) {
        Context context = Context.current();
        Runnable start;
        try {
            Action action = action(request);
            start = () -> start(request, action, context, response);
        } catch (StatusRuntimeException e) {
            response.onError(e);
            return;
        }
        slots.submit(start);
    }

    /** Starts the action (a slot is held for it) and answers the call when it ends. */
    private void start(RunRequest request, Action action, Context context, StreamObserver<RunResponse> response) {
        if (context.isCancelled()) {
            slots.done();
            response.onError(Status.CANCELLED.withDescription("cancelled while queued").asRuntimeException());
            return;
        }
        Sandbox sandbox = action.sandbox().orElseThrow();
        Path inputRoot = sandbox.inputRootPath().orElseThrow();
        Set<String> mayCreate;
        Execution execution;
        try {
            mayCreate = mountPointNames(sandbox);
            mayCreate.removeAll(topLevelNames(inputRoot));
            execution = paddock.start(action);
        } catch (IOException | RuntimeException e) {
            slots.done();
            response.onError(Status.INTERNAL.withDescription("paddock could not start the action: " + e)
                    .asRuntimeException());
            return;
        }
        // A cancelled call (bb_worker's own timeout, a client gone) ends the whole process tree.
        Context.CancellationListener cancel = c -> execution.cancel();
        context.addListener(cancel, Runnable::run);
        // The outcome arrives on paddock's supervisor thread. When answering needs no file system work (the
        // sandbox made no mount point in the input root, no degradations to write), the answer goes out from
        // there; otherwise, and for what follows the answer, a thread of the runner's own takes over.
        execution.onExit(Runnable::run).whenComplete((outcome, never) -> {
            context.removeListener(cancel);
            boolean fileWork = !mayCreate.isEmpty()
                    || (!request.getServerLogsDirectory().isEmpty() && !outcome.degradations().isEmpty());
            if (fileWork) blocking.execute(() -> answer(request, inputRoot, mayCreate, outcome, response));
            else answer(request, inputRoot, mayCreate, outcome, response);
        });
    }

    /** Answers the call, then logs it and frees its slot (a waiting action starts on another thread). */
    private void answer(RunRequest request, Path inputRoot, Set<String> mayCreate, Outcome outcome,
            StreamObserver<RunResponse> response) {
        try {
            if (!mayCreate.isEmpty()) removeMountPoints(inputRoot, mayCreate);
            writeServerLogs(request, outcome);
            response.onNext(response(outcome));
            response.onCompleted();
        } catch (StatusRuntimeException e) {
            response.onError(e);
        } catch (IOException | RuntimeException e) {
            response.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        } finally {
            log.accept("run " + LogText.escape(String.join(" ", request.getArgumentsList())) + " -> "
                    + describe(outcome));
            slots.done();
        }
    }

    /** The action a request asks for, with its log files created; refused when the request is wrong. */
    private Action action(RunRequest request) {
        if (request.getArgumentsCount() == 0)
            throw invalid("the request has no arguments: arguments[0] is the command to run");
        RequestPaths paths = new RequestPaths();
        Path inputRoot = paths.resolve(request.getInputRootDirectory(), "input_root_directory");
        if (!Files.isDirectory(inputRoot, LinkOption.NOFOLLOW_LINKS))
            throw invalid("input_root_directory '" + request.getInputRootDirectory() + "' is not a directory");
        paths.directoryIn(inputRoot);
        Path workingDirectory = paths.inside(inputRoot, request.getWorkingDirectory(), "working_directory");
        Sandbox.Builder sandbox = sandboxFor.apply(inputRoot);
        if (!request.getTemporaryDirectory().isEmpty()) {
            Path tmp = paths.resolve(request.getTemporaryDirectory(), "temporary_directory");
            if (!Files.isDirectory(tmp, LinkOption.NOFOLLOW_LINKS))
                throw invalid("temporary_directory '" + request.getTemporaryDirectory() + "' is not a directory");
            sandbox.temporaryDirectory(tmp);
        }
        Path stdout = createLog(paths, request.getStdoutPath(), "stdout_path");
        Path stderr = createLog(paths, request.getStderrPath(), "stderr_path");
        try {
            return Action.newBuilder(request.getArgumentsList())
                    .environment(request.getEnvironmentVariablesMap())
                    .directory(workingDirectory)
                    .stdin(Stdio.discard())
                    .stdout(Stdio.append(stdout))
                    .stderr(Stdio.append(stderr))
                    .sandbox(sandbox.build())
                    .build();
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
    }

    private static RunResponse response(Outcome outcome) {
        SetupFailure failure = outcome.setupFailure().orElse(null);
        if (failure != null) {
            // As Buildbarn's own runner: a command that cannot be started is the request's fault.
            Status status = failure.step().equals("exec") ? Status.INVALID_ARGUMENT : Status.FAILED_PRECONDITION;
            throw status.withDescription("paddock could not start the action: " + failure.describe()).asRuntimeException();
        }
        ResourceUsage u = outcome.resourceUsage();
        POSIXResourceUsage.Builder usage = POSIXResourceUsage.newBuilder()
                .setUserTime(duration(u.userTime()))
                .setSystemTime(duration(u.systemTime()))
                .setMaximumResidentSetSize(u.maxRssKilobytes() * 1024)
                .setPageReclaims(u.minorFaults())
                .setPageFaults(u.majorFaults())
                .setBlockInputOperations(u.inBlocks())
                .setBlockOutputOperations(u.outBlocks())
                .setVoluntaryContextSwitches(u.voluntaryContextSwitches())
                .setInvoluntaryContextSwitches(u.involuntaryContextSwitches());
        String signal = outcome.signal().orElse(null);
        if (signal != null) usage.setTerminationSignal(signal.startsWith("SIG") ? signal.substring(3) : signal);
        // Like Buildbarn's own runner (Go's ExitCode()): -1 when a signal ended the action.
        long exitCode = signal != null ? -1 : outcome.status().orElse(outcome.exitCode());
        return RunResponse.newBuilder().setExitCode(exitCode).addResourceUsage(Any.pack(usage.build())).build();
    }

    private static Duration duration(java.time.Duration d) {
        return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
    }

    private static String describe(Outcome o) {
        if (o.timedOut()) return "timed out";
        return o.signal().map(s -> "killed by " + s).orElse("exit " + o.exitCode())
                + (o.degradations().isEmpty() ? "" : ", " + o.degradations().size() + " degradation(s)");
    }

    /** Degradations go where bb_worker collects server logs, so the client can see them. */
    private void writeServerLogs(RunRequest request, Outcome outcome) throws IOException {
        if (request.getServerLogsDirectory().isEmpty() || outcome.degradations().isEmpty()) return;
        Path dir = new RequestPaths().resolve(request.getServerLogsDirectory(), "server_logs_directory");
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return;
        List<String> lines = new ArrayList<>();
        outcome.degradations().forEach(d -> lines.add(d.toString()));
        Files.write(dir.resolve("paddock-degradations.txt"), lines);
    }

    /** Creates an action's log file (it must not exist yet), as Buildbarn's own runner does. */
    private static Path createLog(RequestPaths paths, String relative, String field) {
        Path p = paths.resolve(relative, field);
        try {
            Files.createFile(p);
        } catch (FileAlreadyExistsException e) {
            throw invalid(field + " '" + relative + "' exists already");
        } catch (IOException e) {
            throw invalid(field + " '" + relative + "' cannot be created: " + e.getMessage());
        }
        return p;
    }

    /**
     * One request's paths, each relative to a base and refused when it is absolute or leads out of
     * it, also through a symbolic link on the way. Directories found to be their own real path are
     * remembered for the request: bb_worker puts an action's input root, temporary directory and
     * log files side by side, and their directory's real path is then looked up once.
     */
    private final class RequestPaths {
        private final Set<Path> real = new HashSet<>(Set.of(buildDirectory));

        /** A path relative to the build directory. */
        Path resolve(String relative, String field) {
            return inside(buildDirectory, relative, field);
        }

        /** Records dir, a directory and no link, as its own real path if its parent is known to be one. */
        void directoryIn(Path dir) {
            if (real.contains(dir.getParent())) real.add(dir);
        }

        Path inside(Path base, String relative, String field) {
            Path rel = Path.of(relative);
            if (rel.isAbsolute()) throw invalid(field + " '" + relative + "' must be relative");
            Path p = base.resolve(rel).normalize();
            if (!p.startsWith(base)) throw invalid(field + " '" + relative + "' leads out of " + base);
            // A symlink on the way could lead out too: its parent's real path must stay inside.
            Path parent = p.equals(base) ? p : p.getParent();
            if (real.contains(parent)) return p;
            try {
                if (Files.exists(parent)) {
                    Path realParent = parent.toRealPath();
                    if (!realParent.startsWith(base))
                        throw invalid(field + " '" + relative + "' leads out of " + base + " through a symbolic link");
                    if (realParent.equals(parent)) real.add(parent);
                }
            } catch (IOException e) {
                throw invalid(field + " '" + relative + "': " + e.getMessage());
            }
            return p;
        }
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    private static Set<String> topLevelNames(Path dir) throws IOException {
        Set<String> names = new HashSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) names.add(entry.getFileName().toString());
        }
        return names;
    }

    /** The top-level names of the sandbox's mount points in its input root. */
    private static Set<String> mountPointNames(Sandbox sandbox) {
        Set<String> names = new HashSet<>();
        for (Path p : sandbox.mountPoints()) if (p.getNameCount() > 0) names.add(p.getName(0).toString());
        return names;
    }

    /**
     * Removes what the sandbox created in the input root as mount points: each of the names that
     * were not there before the action, if it is a link (merged /usr's /bin -> usr/bin) or holds
     * directories only. Anything holding a file is the action's and stays. One listing of the input
     * root finds them: cheaper, once per action, than looking up each name. They go to the trash,
     * which deletes them after the answer.
     */
    private void removeMountPoints(Path inputRoot, Set<String> mayCreate) {
        try {
            Set<String> created = topLevelNames(inputRoot);
            created.retainAll(mayCreate);
            for (String name : created) {
                Path p = inputRoot.resolve(name);
                try {
                    if (Files.isSymbolicLink(p) || onlyDirectories(p)) trash.remove(p);
                } catch (NoSuchFileException e) {
                    // gone already
                }
            }
        } catch (IOException | UncheckedIOException e) {
            log.accept("runner: could not remove the mount points in " + inputRoot + ": " + e);
        }
    }

    /**
     * Whether dir is a directory holding nothing but directories, links not followed: an empty one,
     * the usual mount point, takes one read.
     */
    private static boolean onlyDirectories(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return false;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) if (!onlyDirectories(entry)) return false;
        }
        return true;
    }
}
