/** The paddock command. picocli reads the commands' annotated fields reflectively. */
module dev.paddock.cli {
    requires dev.paddock;
    requires dev.paddock.remote;
    requires info.picocli;
    requires io.grpc;
    requires io.grpc.stub;
    requires io.grpc.netty.shaded;
    requires pty4j;
    requires java.management;
    requires jdk.unsupported;

    opens dev.paddock.cli to info.picocli;
}
