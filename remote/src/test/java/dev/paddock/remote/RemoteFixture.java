package dev.paddock.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteOperationMetadata;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.longrunning.Operation;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.Code;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.function.Executable;

/**
 * A {@link RemoteServer} (never started on TCP) with its services on an in-process gRPC server,
 * a channel to it, and what the tests do with it: digests, uploads, downloads, actions and
 * Execute streams. Everything waits for events with {@link #WAIT} as the bound.
 */
final class RemoteFixture implements AutoCloseable {
    /** The bound on every wait for an event: generous, so that a loaded machine does not fail a test. */
    static final Duration WAIT = Duration.ofSeconds(60);
    static final int CHUNK = 64 * 1024;
    static final String WRITE = ByteStreamGrpc.getWriteMethod().getFullMethodName();
    static final String EXECUTE = ExecutionGrpc.getExecuteMethod().getFullMethodName();
    static final Digest EMPTY = digest(ByteString.EMPTY);

    final RemoteServer server;
    final Path cacheDir;
    final CallTracker calls = new CallTracker();
    private final Server grpc;
    private final ManagedChannel channel;
    private boolean closed;

    private RemoteFixture(RemoteServer server) throws IOException {
        this.server = server;
        this.cacheDir = server.cacheDir();
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder b = InProcessServerBuilder.forName(name).intercept(calls)
                .maxInboundMessageSize(RemoteServer.MAX_MESSAGE_BYTES);
        server.services().forEach(b::addService);
        this.grpc = b.build().start();
        this.channel = InProcessChannelBuilder.forName(name).maxInboundMessageSize(RemoteServer.MAX_MESSAGE_BYTES).build();
    }

    /** A server with every default but its cache directory (so actions run in the AUTO sandbox). */
    static RemoteFixture start(Path cacheDir) throws IOException {
        return start(RemoteServer.newBuilder().cacheDir(cacheDir));
    }

    /** A server that also takes action results from clients (--allow-client-ac-writes). */
    static RemoteFixture startTakingClientResults(Path cacheDir) throws IOException {
        return start(RemoteServer.newBuilder().cacheDir(cacheDir).allowClientActionCacheWrites(true));
    }

    static RemoteFixture start(RemoteServer.Builder builder) throws IOException {
        RemoteServer server = builder.build();
        try {
            return new RemoteFixture(server);
        } catch (IOException | RuntimeException e) {
            try {
                server.close();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            throw e;
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (closed) return;
        closed = true;
        channel.shutdownNow();
        grpc.shutdownNow();
        server.close();
        channel.awaitTermination(10, TimeUnit.SECONDS);
        grpc.awaitTermination(10, TimeUnit.SECONDS);
    }

    // ---- stubs, each call with its own deadline ----

    CapabilitiesGrpc.CapabilitiesBlockingStub capabilities() {
        return CapabilitiesGrpc.newBlockingStub(channel).withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas() {
        return ContentAddressableStorageGrpc.newBlockingStub(channel).withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    ByteStreamGrpc.ByteStreamBlockingStub byteStream() {
        return ByteStreamGrpc.newBlockingStub(channel).withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    ActionCacheGrpc.ActionCacheBlockingStub actionCache() {
        return ActionCacheGrpc.newBlockingStub(channel).withDeadlineAfter(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    ExecutionGrpc.ExecutionBlockingStub execution() {
        return ExecutionGrpc.newBlockingStub(channel).withDeadlineAfter(2 * WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    ExecutionGrpc.ExecutionStub executionAsync() {
        return ExecutionGrpc.newStub(channel);
    }

    // ---- digests and data ----

    static Digest digest(ByteString data) {
        MessageDigest md = sha256();
        data.asReadOnlyByteBufferList().forEach(md::update);
        return digest(md, data.size());
    }

    /** The digest of a message: SHA-256 over its serialized bytes. */
    static Digest digest(Message message) {
        return digest(message.toByteString());
    }

    static Digest digest(MessageDigest finished, long size) {
        return Digest.newBuilder().setHash(HexFormat.of().formatHex(finished.digest())).setSizeBytes(size).build();
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static ByteString utf8(String s) {
        return ByteString.copyFromUtf8(s);
    }

    /** Reproducible random bytes. */
    static ByteString random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return ByteString.copyFrom(b);
    }

    static String format(Digest d) {
        return d.getHash() + "/" + d.getSizeBytes();
    }

    // ---- ContentAddressableStorage ----

    /** Uploads blobs in one BatchUpdateBlobs call and checks that each was stored. */
    void putAll(Map<Digest, ByteString> blobs) {
        BatchUpdateBlobsRequest.Builder req = BatchUpdateBlobsRequest.newBuilder();
        blobs.forEach((d, data) -> req.addRequestsBuilder().setDigest(d).setData(data));
        BatchUpdateBlobsResponse res = cas().batchUpdateBlobs(req.build());
        assertEquals(blobs.size(), res.getResponsesCount());
        for (BatchUpdateBlobsResponse.Response r : res.getResponsesList())
            assertEquals(Code.OK_VALUE, r.getStatus().getCode(), "storing " + format(r.getDigest()) + ": " + r.getStatus());
    }

    Digest put(ByteString data) {
        Digest d = digest(data);
        putAll(Map.of(d, data));
        return d;
    }

    Digest put(Message message) {
        return put(message.toByteString());
    }

    /** Which of digests FindMissingBlobs reports missing. */
    List<Digest> missing(Digest... digests) {
        return cas().findMissingBlobs(FindMissingBlobsRequest.newBuilder().addAllBlobDigests(List.of(digests)).build())
                .getMissingBlobDigestsList();
    }

    /** One blob through BatchReadBlobs; it must be there. */
    ByteString batchRead(Digest d) {
        BatchReadBlobsResponse res = cas().batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(d).build());
        assertEquals(1, res.getResponsesCount());
        BatchReadBlobsResponse.Response r = res.getResponses(0);
        assertEquals(Code.OK_VALUE, r.getStatus().getCode(), "reading " + format(d) + ": " + r.getStatus());
        return r.getData();
    }

    // ---- ByteStream ----

    static String readName(Digest d) {
        return "blobs/" + format(d);
    }

    static String uploadName(Digest d) {
        return uploadName(UUID.randomUUID().toString(), d);
    }

    static String uploadName(String uuid, Digest d) {
        return "uploads/" + uuid + "/blobs/" + format(d);
    }

    /** The whole blob through ByteStream.Read. */
    ByteString read(Digest d) {
        return read(readName(d), 0, 0);
    }

    ByteString read(String resourceName, long offset, long limit) {
        ByteString.Output out = ByteString.newOutput();
        Iterator<ReadResponse> it = byteStream().read(ReadRequest.newBuilder().setResourceName(resourceName)
                .setReadOffset(offset).setReadLimit(limit).build());
        try {
            while (it.hasNext()) it.next().getData().writeTo(out);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out.toByteString();
    }

    QueryWriteStatusResponse queryWriteStatus(String resourceName) {
        return byteStream().queryWriteStatus(QueryWriteStatusRequest.newBuilder().setResourceName(resourceName).build());
    }

    /** A Write call the test drives message by message, with flow control. */
    WriteCall openWrite() {
        WriteCall call = new WriteCall();
        ByteStreamGrpc.newStub(channel).withDeadlineAfter(2 * WAIT.toSeconds(), TimeUnit.SECONDS).write(call);
        return call;
    }

    /**
     * Writes data at offset in 64 KiB chunks (the resource name on the first), finishing the
     * upload if finish, and half-closes the call; returns the server's answer or throws its error.
     */
    WriteResponse write(String resourceName, ByteString data, long offset, boolean finish) throws InterruptedException {
        WriteCall call = openWrite();
        call.sendChunks(resourceName, data, offset, finish);
        call.halfClose();
        return call.await();
    }

    /** One ByteStream.Write call. Sends wait until the transport takes more, so memory stays bounded. */
    static final class WriteCall implements ClientResponseObserver<WriteRequest, WriteResponse> {
        private final CompletableFuture<WriteResponse> response = new CompletableFuture<>();
        private final Object ready = new Object();
        private volatile ClientCallStreamObserver<WriteRequest> call;
        private volatile WriteResponse last;

        @Override
        public void beforeStart(ClientCallStreamObserver<WriteRequest> call) {
            this.call = call;
            call.setOnReadyHandler(this::wake);
        }

        private void wake() {
            synchronized (ready) {
                ready.notifyAll();
            }
        }

        @Override
        public void onNext(WriteResponse value) {
            last = value;
        }

        @Override
        public void onError(Throwable t) {
            response.completeExceptionally(t);
            wake();
        }

        @Override
        public void onCompleted() {
            response.complete(last);
            wake();
        }

        /** Sends one request once the transport wants it; false if the call has already ended. */
        boolean send(WriteRequest request) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            synchronized (ready) {
                while (!call.isReady() && !response.isDone()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) throw new AssertionError("the Write call did not become ready within " + WAIT);
                    ready.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            }
            if (response.isDone()) return false;
            call.onNext(request);
            return true;
        }

        /** Sends data at offset in 64 KiB chunks, the resource name on the first; stops early if the call ends. */
        void sendChunks(String resourceName, ByteString data, long offset, boolean finish) throws InterruptedException {
            int pos = 0;
            do {
                int n = Math.min(CHUNK, data.size() - pos);
                WriteRequest.Builder r = WriteRequest.newBuilder().setWriteOffset(offset + pos).setData(data.substring(pos, pos + n));
                if (pos == 0) r.setResourceName(resourceName);
                pos += n;
                if (pos == data.size()) r.setFinishWrite(finish);
                if (!send(r.build())) return;
            } while (pos < data.size());
        }

        void halfClose() {
            call.onCompleted();
        }

        void cancel() {
            call.cancel("the test cancels this upload", null);
        }

        boolean isDone() {
            return response.isDone();
        }

        /** The server's answer; its error rethrown as the StatusRuntimeException it was. */
        WriteResponse await() throws InterruptedException {
            try {
                return response.get(WAIT.toNanos(), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof StatusRuntimeException s) throw s;
                throw new AssertionError(e.getCause());
            } catch (TimeoutException e) {
                throw new AssertionError("no answer to the Write call within " + WAIT);
            }
        }
    }

    // ---- actions ----

    /** A Command running script with /bin/sh and PATH=/usr/bin:/bin, collecting outputPaths (API 2.1 style). */
    static Command shell(String script, String... outputPaths) {
        return Command.newBuilder().addAllArguments(List.of("/bin/sh", "-c", script))
                .addEnvironmentVariables(Command.EnvironmentVariable.newBuilder().setName("PATH").setValue("/usr/bin:/bin"))
                .addAllOutputPaths(List.of(outputPaths)).build();
    }

    /** Uploads the Command, the input tree and the Action (in one batch); returns the Action's digest. */
    Digest uploadAction(Command command, InputTree inputs) {
        return uploadAction(command, inputs, a -> a);
    }

    Digest uploadAction(Command command, InputTree inputs, UnaryOperator<Action.Builder> tweak) {
        Map<Digest, ByteString> blobs = new LinkedHashMap<>();
        Directory root = inputs.toDirectory(blobs);
        blobs.put(digest(command), command.toByteString());
        Action action = tweak.apply(Action.newBuilder().setCommandDigest(digest(command)).setInputRootDigest(digest(root)))
                .build();
        blobs.put(digest(action), action.toByteString());
        putAll(blobs);
        return digest(action);
    }

    ExecuteRun execute(Digest action) {
        return execute(ExecuteRequest.newBuilder().setActionDigest(action).build());
    }

    /** Runs Execute to the end of its stream. */
    ExecuteRun execute(ExecuteRequest request) {
        List<Operation> ops = new ArrayList<>();
        execution().execute(request).forEachRemaining(ops::add);
        return new ExecuteRun(ops);
    }

    /** Starts Execute without waiting; the stream's messages arrive in the returned OperationStream. */
    OperationStream<ExecuteRequest> startExecute(Digest action) {
        OperationStream<ExecuteRequest> stream = new OperationStream<>();
        executionAsync().execute(ExecuteRequest.newBuilder().setActionDigest(action).build(), stream);
        return stream;
    }

    OperationStream<WaitExecutionRequest> startWaitExecution(String name) {
        OperationStream<WaitExecutionRequest> stream = new OperationStream<>();
        executionAsync().waitExecution(WaitExecutionRequest.newBuilder().setName(name).build(), stream);
        return stream;
    }

    /** The action's result from the action cache, or the call's error (NOT_FOUND for a miss). */
    ActionResult getActionResult(Digest action) {
        return actionCache().getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build());
    }

    /** "exit N, stdout '...', stderr '...'": for assertion messages. */
    String describe(ActionResult r) {
        return "exit " + r.getExitCode() + ", stdout '" + text(r.getStdoutDigest()) + "', stderr '" + text(r.getStderrDigest()) + "'";
    }

    /** A blob read through ByteStream as UTF-8 text. */
    String text(Digest d) {
        return read(d).toString(StandardCharsets.UTF_8);
    }

    static <T extends Message> T unpack(Any any, Class<T> type) {
        try {
            return any.unpack(type);
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("not a " + type.getSimpleName() + ": " + any, e);
        }
    }

    static ExecutionStage.Value stage(Operation op) {
        return unpack(op.getMetadata(), ExecuteOperationMetadata.class).getStage();
    }

    /** The messages of one Execute stream, in order. */
    record ExecuteRun(List<Operation> operations) {
        ExecuteRun {
            assertTrue(!operations.isEmpty(), "the Execute stream sent no Operation");
        }

        Operation last() {
            return operations.getLast();
        }

        String name() {
            return last().getName();
        }

        List<ExecutionStage.Value> stages() {
            return operations.stream().map(RemoteFixture::stage).toList();
        }

        /** The final ExecuteResponse; the last Operation must be done with one. */
        ExecuteResponse response() {
            assertTrue(last().getDone(), "the last Operation is not done: " + last());
            assertTrue(last().hasResponse(), "the last Operation has no response: " + last());
            return unpack(last().getResponse(), ExecuteResponse.class);
        }

        ActionResult result() {
            return response().getResult();
        }
    }

    /** An asynchronous Execute or WaitExecution stream: its Operations, then its end or error. */
    static final class OperationStream<Q> implements ClientResponseObserver<Q, Operation> {
        private static final Object END = new Object();
        private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        private final List<Operation> received = Collections.synchronizedList(new ArrayList<>());
        private volatile ClientCallStreamObserver<Q> call;

        @Override
        public void beforeStart(ClientCallStreamObserver<Q> call) {
            this.call = call;
        }

        @Override
        public void onNext(Operation op) {
            received.add(op);
            events.add(op);
        }

        @Override
        public void onError(Throwable t) {
            events.add(t);
        }

        @Override
        public void onCompleted() {
            events.add(END);
        }

        private Object nextEvent() throws InterruptedException {
            Object e = events.poll(WAIT.toNanos(), TimeUnit.NANOSECONDS);
            if (e == null) throw new AssertionError("nothing more on the stream within " + WAIT + "; so far: " + stages());
            return e;
        }

        /** The next Operation; fails if the stream ends or fails instead. */
        Operation next() throws InterruptedException {
            Object e = nextEvent();
            if (e instanceof Operation op) return op;
            if (e instanceof StatusRuntimeException s) throw s;
            throw new AssertionError("the stream ended (" + e + ") while an Operation was expected; so far: " + stages());
        }

        /** Waits for an Operation at stage (or later); returns it. */
        Operation awaitStage(ExecutionStage.Value stage) throws InterruptedException {
            for (;;) {
                Operation op = next();
                if (stage(op).getNumber() >= stage.getNumber()) {
                    assertEquals(stage, stage(op), "the stream skipped " + stage + ": " + stages());
                    return op;
                }
            }
        }

        /** Waits for the stream to end normally and returns everything it sent. */
        ExecuteRun awaitEnd() throws InterruptedException {
            for (;;) {
                Object e = nextEvent();
                if (e == END) return new ExecuteRun(List.copyOf(received));
                if (e instanceof Throwable t) throw new AssertionError("the stream failed: " + t, t);
            }
        }

        /** Waits for the stream to fail; returns its status. */
        Status awaitError() throws InterruptedException {
            for (;;) {
                Object e = nextEvent();
                if (e == END) throw new AssertionError("the stream ended normally; expected an error");
                if (e instanceof Throwable t) return Status.fromThrowable(t);
            }
        }

        List<ExecutionStage.Value> stages() {
            synchronized (received) {
                return received.stream().map(RemoteFixture::stage).toList();
            }
        }

        /** Cancels the call from the client's side, as a client that goes away does. */
        void cancel() {
            call.cancel("the test cancels this call", null);
        }
    }

    // ---- assertions ----

    /** Runs call, which must fail with code; returns the failure. */
    static StatusRuntimeException assertStatus(Status.Code code, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), "status: " + e.getStatus());
        return e;
    }

    /** Like {@link #assertStatus}, and the description mentions each of fragments. */
    static StatusRuntimeException assertStatus(Status.Code code, Executable call, String... fragments) {
        StatusRuntimeException e = assertStatus(code, call);
        String description = String.valueOf(e.getStatus().getDescription());
        for (String f : fragments)
            assertTrue(description.contains(f), "the description should mention '" + f + "': " + description);
        return e;
    }
}
