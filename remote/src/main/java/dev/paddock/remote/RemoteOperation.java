package dev.paddock.remote;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.ExecuteOperationMetadata;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import com.google.longrunning.Operation;
import com.google.protobuf.Any;
import dev.paddock.Execution;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One Execute request, from the cache check to its response, and the streams watching it.
 * When the last watcher goes away before it is done (the client disconnected and nobody called
 * WaitExecution), the action is cancelled: a queued action never starts, a running one has its
 * whole process tree killed.
 */
final class RemoteOperation {
    final String name = "operations/" + UUID.randomUUID();
    /** The instance name the client executes in: its results are cached for that instance only. */
    final String instanceName;
    final Digest actionDigest;
    final Instant queuedAt = Instant.now();
    private final List<StreamObserver<Operation>> watchers = new ArrayList<>();
    private ExecutionStage.Value stage = ExecutionStage.Value.UNKNOWN;
    private ExecuteResponse response;
    private Execution execution;
    private boolean cancelled;

    RemoteOperation(String instanceName, Digest actionDigest) {
        this.instanceName = instanceName;
        this.actionDigest = actionDigest;
    }

    /** Adds a stream; it gets the current state at once, and the final one when the operation ends. */
    synchronized void watch(StreamObserver<Operation> observer) {
        if (observer instanceof ServerCallStreamObserver<Operation> call) call.setOnCancelHandler(() -> unwatch(observer));
        observer.onNext(snapshot());
        if (response != null) observer.onCompleted();
        else watchers.add(observer);
    }

    private void unwatch(StreamObserver<Operation> observer) {
        boolean abandoned;
        synchronized (this) {
            abandoned = watchers.remove(observer) && watchers.isEmpty() && response == null;
        }
        if (abandoned) cancel();
    }

    synchronized void stage(ExecutionStage.Value next) {
        if (response != null) return;
        stage = next;
        Operation op = snapshot();
        for (StreamObserver<Operation> w : watchers) w.onNext(op);
    }

    synchronized void complete(ExecuteResponse result) {
        if (response != null) return;
        stage = ExecutionStage.Value.COMPLETED;
        response = result;
        Operation op = snapshot();
        for (StreamObserver<Operation> w : watchers) {
            w.onNext(op);
            w.onCompleted();
        }
        watchers.clear();
    }

    synchronized boolean isDone() {
        return response != null;
    }

    /** Records the running action, or cancels it at once if the operation was cancelled meanwhile. */
    void running(Execution e) {
        boolean cancelNow;
        synchronized (this) {
            execution = e;
            cancelNow = cancelled;
        }
        if (cancelNow) e.cancel();
    }

    synchronized boolean cancelled() {
        return cancelled;
    }

    void cancel() {
        Execution e;
        synchronized (this) {
            if (response != null || cancelled) return;
            cancelled = true;
            e = execution;
        }
        if (e != null) e.cancel();
    }

    private Operation snapshot() {
        Operation.Builder op = Operation.newBuilder().setName(name).setMetadata(Any.pack(
                ExecuteOperationMetadata.newBuilder().setStage(stage).setActionDigest(actionDigest).build()));
        if (response != null) op.setDone(true).setResponse(Any.pack(response));
        return op.build();
    }
}
