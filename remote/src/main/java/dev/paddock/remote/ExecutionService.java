package dev.paddock.remote;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import com.google.longrunning.Operation;
import com.google.rpc.Code;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Execution: checks the action cache, then queues the action for one of a fixed number of
 * workers. Operations stay known for {@link #KEEP_DONE} after they end, for WaitExecution.
 */
final class ExecutionService extends ExecutionGrpc.ExecutionImplBase implements AutoCloseable {
    static final Duration KEEP_DONE = Duration.ofMinutes(10);

    private final ActionCacheStore cache;
    private final ActionRunner runner;
    private final Metrics metrics;
    private final Consumer<String> log;
    private final ThreadPoolExecutor workers;
    private final ScheduledExecutorService janitor = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("paddock-serve-janitor").daemon().factory());
    private final ConcurrentHashMap<String, RemoteOperation> operations = new ConcurrentHashMap<>();

    ExecutionService(ActionCacheStore cache, ActionRunner runner, int workerCount, Metrics metrics, Consumer<String> log) {
        this.cache = cache;
        this.runner = runner;
        this.metrics = metrics;
        this.log = log;
        this.workers = new ThreadPoolExecutor(workerCount, workerCount, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), Thread.ofPlatform().name("paddock-serve-worker-", 0).factory());
        metrics.watchQueue(() -> workers.getQueue().size(), workers::getActiveCount);
    }

    @Override
    public void execute(ExecuteRequest request, StreamObserver<Operation> response) {
        try {
            Digests.checkFunction(request.getDigestFunction());
            Digests.check(request.getActionDigest(), "action_digest");
        } catch (BadRequest e) {
            response.onError(e.toStatus());
            return;
        }
        RemoteOperation op = new RemoteOperation(request.getInstanceName(), request.getActionDigest());
        operations.put(op.name, op);
        op.watch(response);
        long started = System.nanoTime();
        if (!request.getSkipCacheLookup()) {
            op.stage(ExecutionStage.Value.CACHE_CHECK);
            Optional<ActionResult> hit;
            try {
                hit = cache.get(request.getInstanceName(), request.getActionDigest());
            } catch (IOException e) {
                hit = Optional.empty(); // an unreadable entry is a miss: the action runs again
            }
            metrics.cacheLookup(hit.isPresent());
            if (hit.isPresent()) {
                finish(op, ExecuteResponse.newBuilder().setResult(hit.get()).setCachedResult(true)
                        .setStatus(Rpcs.OK).build(), started);
                return;
            }
        }
        op.stage(ExecutionStage.Value.QUEUED);
        try {
            workers.execute(() -> run(op, started));
        } catch (RejectedExecutionException e) {
            finish(op, failure(Code.UNAVAILABLE, "the server is shutting down"), started);
        }
    }

    private void run(RemoteOperation op, long started) {
        if (op.cancelled()) {
            finish(op, failure(Code.CANCELLED, "cancelled before it started: the client went away"), started);
            return;
        }
        op.stage(ExecutionStage.Value.EXECUTING);
        ExecuteResponse response;
        try {
            response = runner.run(op);
        } catch (InterruptedException e) {
            response = failure(Code.CANCELLED, "the server is shutting down");
        } catch (RuntimeException e) {
            response = failure(Code.INTERNAL, "paddock serve: " + e);
        }
        finish(op, response, started);
    }

    private void finish(RemoteOperation op, ExecuteResponse response, long started) {
        op.complete(response);
        metrics.executed(response);
        try {
            janitor.schedule(() -> operations.remove(op.name), KEEP_DONE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            operations.remove(op.name); // the server is closing: nobody will wait for it
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        StringBuilder line = new StringBuilder("action ").append(Digests.format(op.actionDigest));
        if (response.getStatus().getCode() != Code.OK_VALUE && !response.hasResult())
            line.append(" failed: ").append(Code.forNumber(response.getStatus().getCode())).append(": ")
                    .append(LogText.escape(response.getStatus().getMessage()));
        else line.append(" exit ").append(response.getResult().getExitCode());
        if (response.getStatus().getCode() == Code.DEADLINE_EXCEEDED_VALUE) line.append(" timed out");
        line.append(response.getCachedResult() ? " (cache hit)" : " in " + took.toMillis() + " ms");
        log.accept(line.toString());
    }

    static ExecuteResponse failure(Code code, String message) {
        return ExecuteResponse.newBuilder().setStatus(Rpcs.status(code, message)).build();
    }

    @Override
    public void waitExecution(WaitExecutionRequest request, StreamObserver<Operation> response) {
        RemoteOperation op = operations.get(request.getName());
        if (op == null) {
            response.onError(Status.NOT_FOUND.withDescription("no operation '" + request.getName()
                    + "': it never existed, or ended more than " + KEEP_DONE.toMinutes() + " minutes ago").asRuntimeException());
            return;
        }
        op.watch(response);
    }

    /** Cancels every queued and running action, and waits for the workers to finish. */
    @Override
    public void close() throws InterruptedException {
        workers.shutdown();
        for (RemoteOperation op : operations.values()) op.cancel();
        workers.awaitTermination(1, TimeUnit.MINUTES);
        janitor.shutdownNow();
    }
}
