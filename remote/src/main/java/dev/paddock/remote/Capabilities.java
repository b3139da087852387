package dev.paddock.remote;

import build.bazel.remote.execution.v2.ActionCacheUpdateCapabilities;
import build.bazel.remote.execution.v2.CacheCapabilities;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.ExecutionCapabilities;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.SymlinkAbsolutePathStrategy;
import build.bazel.semver.SemVer;
import io.grpc.stub.StreamObserver;

/** What this server supports: SHA-256, execution, API versions 2.0 to 2.3, and whether clients may update the action cache. */
final class Capabilities extends CapabilitiesGrpc.CapabilitiesImplBase {
    /** Batch requests and responses stay under gRPC's default 4 MiB message limit. */
    static final long MAX_BATCH_BYTES = 4_000_000;

    private final ServerCapabilities capabilities;

    Capabilities(boolean clientActionCacheWrites) {
        capabilities = ServerCapabilities.newBuilder()
                .setCacheCapabilities(CacheCapabilities.newBuilder()
                        .addDigestFunctions(DigestFunction.Value.SHA256)
                        .setActionCacheUpdateCapabilities(ActionCacheUpdateCapabilities.newBuilder()
                                .setUpdateEnabled(clientActionCacheWrites))
                        .setMaxBatchTotalSizeBytes(MAX_BATCH_BYTES)
                        .setSymlinkAbsolutePathStrategy(SymlinkAbsolutePathStrategy.Value.ALLOWED))
                .setExecutionCapabilities(ExecutionCapabilities.newBuilder()
                        .setDigestFunction(DigestFunction.Value.SHA256)
                        .addDigestFunctions(DigestFunction.Value.SHA256)
                        .setExecEnabled(true))
                .setLowApiVersion(SemVer.newBuilder().setMajor(2))
                .setHighApiVersion(SemVer.newBuilder().setMajor(2).setMinor(3))
                .build();
    }

    @Override
    public void getCapabilities(GetCapabilitiesRequest request, StreamObserver<ServerCapabilities> response) {
        response.onNext(capabilities);
        response.onCompleted();
    }
}
