/**
 * paddock serve: a Remote Execution API v2 server. {@code dev.paddock.remote.RemoteServer} is
 * the entry point; the generated protocol classes stay inside.
 */
module dev.paddock.remote {
    requires dev.paddock;
    requires com.google.common; // the generated stubs' ListenableFuture API
    requires com.google.protobuf;
    requires proto.google.common.protos;
    requires io.grpc;
    requires io.grpc.stub;
    requires io.grpc.protobuf;
    requires io.grpc.netty.shaded;
    requires io.prometheus.metrics.core;
    requires io.prometheus.metrics.model;
    requires io.prometheus.metrics.exporter.httpserver;
    requires java.logging;

    exports dev.paddock.remote;
    // paddock bench runner is a client of the runner protocol.
    exports buildbarn.runner to dev.paddock.cli;
}
