package dev.paddock.remote;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * ActionCache: results by action digest. Clients may store results of actions they ran
 * themselves only where the server allows it (any client could otherwise plant outputs that
 * every other build then takes as a cache hit), and never over a result the server produced.
 */
final class ActionCacheService extends ActionCacheGrpc.ActionCacheImplBase {
    private final ActionCacheStore cache;
    private final Metrics metrics;
    private final Consumer<String> log;
    private final boolean clientWrites;

    ActionCacheService(ActionCacheStore cache, Metrics metrics, Consumer<String> log, boolean clientWrites) {
        this.cache = cache;
        this.metrics = metrics;
        this.log = log;
        this.clientWrites = clientWrites;
    }

    @Override
    public void getActionResult(GetActionResultRequest request, StreamObserver<ActionResult> response) {
        Rpcs.unary(response, () -> {
            Digests.checkFunction(request.getDigestFunction());
            Digests.check(request.getActionDigest(), "action_digest");
            Optional<ActionResult> result = cache.get(request.getInstanceName(), request.getActionDigest());
            metrics.cacheLookup(result.isPresent());
            if (result.isEmpty())
                throw Status.NOT_FOUND.withDescription("no result for action " + Digests.format(request.getActionDigest()))
                        .asRuntimeException();
            log.accept("action " + Digests.format(request.getActionDigest()) + " exit " + result.get().getExitCode()
                    + " (cache hit)");
            return result.get(); // inlining is optional in the API; clients fetch outputs by digest
        });
    }

    @Override
    public void updateActionResult(UpdateActionResultRequest request, StreamObserver<ActionResult> response) {
        Rpcs.unary(response, () -> {
            Digests.checkFunction(request.getDigestFunction());
            Digests.check(request.getActionDigest(), "action_digest");
            ActionResult result = request.getActionResult();
            int i = 0;
            for (var d : ActionCacheStore.referencedBlobs(result)) Digests.check(d, "action_result blob " + i++);
            if (!clientWrites)
                throw Status.PERMISSION_DENIED.withDescription("this server caches only results of actions it ran "
                        + "itself: a client's result could plant outputs in every other build (start paddock serve "
                        + "with --allow-client-ac-writes when every client is trusted)").asRuntimeException();
            if (cache.executed(request.getInstanceName(), request.getActionDigest()))
                throw Status.PERMISSION_DENIED.withDescription("the server ran action "
                        + Digests.format(request.getActionDigest()) + " itself; a client cannot replace its result")
                        .asRuntimeException();
            cache.put(request.getInstanceName(), request.getActionDigest(), result, ActionCacheStore.Origin.CLIENT);
            return result;
        });
    }
}
