package dev.paddock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import dev.paddock.testing.TestCertificates;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code paddock serve} as an operator runs it: its own JVM, real sockets, real signals. */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ServeCliTest {
    /** Netty warns for each unix-socket channel that it has no SO_KEEPALIVE; held so that the level sticks. */
    private static final Logger NETTY_BOOTSTRAP = Logger.getLogger("io.grpc.netty.shaded.io.netty.bootstrap");

    static {
        NETTY_BOOTSTRAP.setLevel(Level.SEVERE);
    }


    @TempDir
    Path dir;
    private ServeProcess server;
    private ManagedChannel channel;

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        if (server != null) server.close();
    }

    @Test
    void helpTeachesTheOptions() throws Exception {
        CliTest.Result r = CliTest.paddock(dir, "serve", "--help");
        assertEquals(0, r.exitCode());
        for (String option : List.of("--listen", "--cache-dir", "--max-cache-size", "--workers", "--sandbox", "--metrics",
                "--tls-cert", "--tls-key", "--tls-client-ca", "--insecure", "--socket-mode"))
            assertTrue(r.stdout().contains(option), option + " in:\n" + r.stdout());
    }

    @Test
    void badOptionsSayWhatIsWrong() throws Exception {
        CliTest.Result r = CliTest.paddock(dir, "serve", "--listen", "nowhere");
        assertEquals(2, r.exitCode());
        assertTrue(r.stderr().contains("--listen 'nowhere' must be HOST:PORT"), r.stderr());
        r = CliTest.paddock(dir, "serve", "--max-cache-size", "lots");
        assertEquals(2, r.exitCode());
        assertTrue(r.stderr().contains("--max-cache-size 'lots' must be a positive size"), r.stderr());
        r = CliTest.paddock(dir, "serve", "--listen", "0.0.0.0:0", "--cache-dir", dir.resolve("cache").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.stderr().contains("refusing to listen on 0.0.0.0:0 without TLS"), r.stderr());
        r = CliTest.paddock(dir, "serve", "--tls-cert", dir.resolve("server.pem").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.stderr().contains("TLS needs both --tls-cert and --tls-key"), r.stderr());
        r = CliTest.paddock(dir, "serve", "--socket-mode", "0660");
        assertEquals(2, r.exitCode());
        assertTrue(r.stderr().contains("--socket-mode applies to a unix socket"), r.stderr());
        r = CliTest.paddock(dir, "serve", "--listen", "unix:");
        assertEquals(2, r.exitCode());
        assertTrue(r.stderr().contains("--listen unix: needs a socket path"), r.stderr());
    }

    /**
     * Exposed as docs/remote.md says: on a unix socket only the serving user may use, and over
     * mutual TLS. (Debian's Bazel 4.2.3 has neither unix sockets nor ALPN in its netty, so a gRPC
     * client stands in for it.)
     */
    @Test
    void servesOnAUnixSocketAndOverMutualTls() throws Exception {
        Path socket = dir.resolve("reapi.sock");
        server = ServeProcess.startListening("unix:" + socket, List.of(), dir.resolve("cache"), "--sandbox", "off");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket, LinkOption.NOFOLLOW_LINKS)));
        assertTrue(server.output().getFirst().contains("listening on unix:" + socket), server.output().getFirst());
        EpollEventLoopGroup loop = new EpollEventLoopGroup(1);
        try {
            assertServes(NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString())).eventLoopGroup(loop)
                    .channelType(EpollDomainSocketChannel.class).usePlaintext().build());
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
        server.close();
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "the socket is removed when the server stops");

        TestCertificates certs = TestCertificates.create(Files.createDirectory(dir.resolve("certs")));
        server = ServeProcess.start(List.of(), dir.resolve("cache"), "--sandbox", "off", "--tls-cert",
                certs.serverCert().toString(), "--tls-key", certs.serverKey().toString(), "--tls-client-ca",
                certs.ca().toString());
        assertTrue(server.output().getFirst().contains("grpcs://127.0.0.1:" + server.port), server.output().getFirst());
        assertServes(NettyChannelBuilder.forAddress("127.0.0.1", server.port).sslContext(GrpcSslContexts.forClient()
                .trustManager(certs.ca().toFile()).keyManager(certs.clientCert().toFile(), certs.clientKey().toFile())
                .build()).build());
        ManagedChannel anonymous = NettyChannelBuilder.forAddress("127.0.0.1", server.port)
                .sslContext(GrpcSslContexts.forClient().trustManager(certs.ca().toFile()).build()).build();
        try {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> CapabilitiesGrpc.newBlockingStub(anonymous).withDeadlineAfter(30, TimeUnit.SECONDS)
                            .getCapabilities(GetCapabilitiesRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
        } finally {
            anonymous.shutdownNow();
        }
    }

    private static void assertServes(ManagedChannel channel) {
        try {
            assertTrue(CapabilitiesGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .getCapabilities(GetCapabilitiesRequest.getDefaultInstance()).hasExecutionCapabilities());
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void aSecondServerOnTheSameCacheDirectoryIsRefused() throws Exception {
        start(List.of(), "--sandbox", "off");
        CliTest.Result r = CliTest.paddock(dir, "serve", "--listen", "127.0.0.1:0", "--cache-dir", dir.resolve("cache").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().contains("another paddock serve is using the cache directory"), r.stderr());
        assertTrue(server.process.isAlive(), "the first server keeps running");
    }

    /** SIGTERM cancels the running action, whose process is gone when the server has exited. */
    @Test
    void sigtermCancelsRunningActionsAndLeavesNoProcess() throws Exception {
        start(List.of(), "--sandbox", "off", "--metrics", "127.0.0.1:0");
        Path pidFile = dir.resolve("pid");
        Command command = Command.newBuilder().addArguments("/bin/sh").addArguments("-c")
                .addArguments("echo $$ > " + pidFile + ".tmp && mv " + pidFile + ".tmp " + pidFile + " && exec sleep 600")
                .build();
        Directory root = Directory.getDefaultInstance();
        Action action = Action.newBuilder().setCommandDigest(digest(command)).setInputRootDigest(digest(root)).build();
        ContentAddressableStorageGrpc.newBlockingStub(channel).batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
                .addRequests(blob(command)).addRequests(blob(root)).addRequests(blob(action)).build());
        Iterator<Operation> ops = ExecutionGrpc.newBlockingStub(channel)
                .execute(ExecuteRequest.newBuilder().setActionDigest(digest(action)).build());
        CompletableFuture.runAsync(() -> ops.forEachRemaining(op -> {}));
        long pid = Long.parseLong(awaitFile(pidFile).strip());
        assertTrue(ProcessHandle.of(pid).isPresent());

        new ProcessBuilder("kill", "-TERM", Long.toString(server.process.pid())).start().waitFor();
        assertTrue(server.process.waitFor(2, TimeUnit.MINUTES), "the server exits on SIGTERM");
        assertTrue(ProcessHandle.of(pid).isEmpty(), "the action's process is gone");
        List<String> lines = server.output();
        assertTrue(lines.stream().anyMatch(l -> l.contains("stopping")), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.contains("metrics at http://127.0.0.1:")), String.join("\n", lines));
    }

    /** 1 GiB up and down through ByteStream while the server has a 256 MiB heap: blobs are streamed. */
    @Test
    void aGibibyteBlobGoesUpAndDownWithA256MiBHeap() throws Exception {
        start(List.of("-Xmx256m"), "--sandbox", "off");
        long size = 1L << 30;
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        Random random = new Random(11);
        byte[] chunk = new byte[1 << 20];
        for (long at = 0; at < size; at += chunk.length) {
            random.nextBytes(chunk);
            sent.update(chunk);
        }
        String hash = HexFormat.of().formatHex(sent.digest());
        String upload = "uploads/" + UUID.randomUUID() + "/blobs/" + hash + "/" + size;

        CompletableFuture<WriteResponse> done = new CompletableFuture<>();
        Object ready = new Object();
        ClientCallStreamObserver<WriteRequest> writer = (ClientCallStreamObserver<WriteRequest>) ByteStreamGrpc.newStub(channel)
                .write(new ClientResponseObserver<WriteRequest, WriteResponse>() {
                    @Override public void beforeStart(ClientCallStreamObserver<WriteRequest> call) {
                        call.setOnReadyHandler(() -> {
                            synchronized (ready) {
                                ready.notifyAll();
                            }
                        });
                    }
                    @Override public void onNext(WriteResponse r) { done.complete(r); }
                    @Override public void onError(Throwable t) { done.completeExceptionally(t); }
                    @Override public void onCompleted() {}
                });
        random = new Random(11);
        for (long at = 0; at < size; at += chunk.length) {
            random.nextBytes(chunk);
            writer.onNext(WriteRequest.newBuilder().setResourceName(at == 0 ? upload : "").setWriteOffset(at)
                    .setData(ByteString.copyFrom(chunk)).setFinishWrite(at + chunk.length == size).build());
            // Flow control: send only while the transport wants more, as a well-behaved client does.
            synchronized (ready) {
                while (!writer.isReady() && !done.isDone()) ready.wait(1000);
            }
        }
        writer.onCompleted();
        assertEquals(size, done.get(5, TimeUnit.MINUTES).getCommittedSize());

        MessageDigest received = MessageDigest.getInstance("SHA-256");
        long total = 0;
        Iterator<ReadResponse> read = ByteStreamGrpc.newBlockingStub(channel)
                .read(ReadRequest.newBuilder().setResourceName("blobs/" + hash + "/" + size).build());
        while (read.hasNext()) {
            ByteString data = read.next().getData();
            data.asReadOnlyByteBufferList().forEach(received::update);
            total += data.size();
        }
        assertEquals(size, total);
        assertEquals(hash, HexFormat.of().formatHex(received.digest()));
        assertTrue(server.process.isAlive(), "the server did not run out of memory");
        assertFalse(server.output().stream().anyMatch(l -> l.contains("OutOfMemoryError")), String.join("\n", server.output()));
    }

    private void start(List<String> jvmOptions, String... options) throws IOException, InterruptedException {
        server = ServeProcess.start(jvmOptions, dir.resolve("cache"), options);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port).usePlaintext().build();
    }

    /** Waits for a file another process renames into place, by watching its directory. */
    private static String awaitFile(Path file) throws IOException, InterruptedException {
        try (var watch = file.getFileSystem().newWatchService()) {
            file.getParent().register(watch, java.nio.file.StandardWatchEventKinds.ENTRY_CREATE); // a rename in counts
            while (!Files.exists(file)) {
                var key = watch.poll(2, TimeUnit.MINUTES);
                if (key == null) throw new AssertionError(file + " did not appear");
                key.pollEvents();
                key.reset();
            }
        }
        return Files.readString(file);
    }

    private static Digest digest(MessageLite m) throws Exception {
        byte[] bytes = m.toByteArray();
        return Digest.newBuilder().setHash(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)))
                .setSizeBytes(bytes.length).build();
    }

    private static BatchUpdateBlobsRequest.Request blob(MessageLite m) throws Exception {
        return BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest(m)).setData(m.toByteString()).build();
    }
}
