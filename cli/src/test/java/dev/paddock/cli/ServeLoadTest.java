package dev.paddock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputFile;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Eight clients at once against one {@code paddock serve} (its own JVM, sandboxed actions):
 * every one of 1,024 actions comes back with exactly its own output, also where clients send
 * the same action at the same moment. Then the server is SIGKILLed in the middle of another
 * round; restarted on the same store, every stored blob is intact and the round completes.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class ServeLoadTest {
    private static final int CLIENTS = 8;
    private static final int ACTIONS_PER_CLIENT = 128;
    /** Every this many actions, all clients send the same one, so that identical actions meet. */
    private static final int SHARED_EVERY = 16;

    @TempDir
    Path dir;
    private final List<ServeProcess> servers = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (ServeProcess s : servers) s.close();
    }

    /** One action: an input file of seeded random bytes, and a command that copies and stamps it. */
    record Job(Digest action, List<BatchUpdateBlobsRequest.Request> blobs, ByteString expected) {}

    private static Job job(long seed, String stamp) {
        Random random = new Random(seed);
        byte[] input = new byte[1 + random.nextInt(4096)];
        random.nextBytes(input);
        ByteString in = ByteString.copyFrom(input);
        Command command = Command.newBuilder().addArguments("/bin/sh").addArguments("-c")
                .addArguments("cat in > out && printf %s '" + stamp + "' >> out").addOutputPaths("out")
                .addEnvironmentVariables(Command.EnvironmentVariable.newBuilder().setName("PATH").setValue("/usr/bin:/bin"))
                .build();
        Directory root = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("in").setDigest(digest(in))).build();
        Action action = Action.newBuilder().setCommandDigest(digest(command.toByteString()))
                .setInputRootDigest(digest(root.toByteString())).build();
        List<BatchUpdateBlobsRequest.Request> blobs = new ArrayList<>();
        for (ByteString b : List.of(in, command.toByteString(), root.toByteString(), action.toByteString()))
            blobs.add(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest(b)).setData(b).build());
        return new Job(digest(action.toByteString()), blobs, in.concat(ByteString.copyFromUtf8(stamp)));
    }

    /** The jobs of one round, per client: each client's own, and every SHARED_EVERY-th one common to all. */
    private static List<List<Job>> round(long seed) {
        List<List<Job>> perClient = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            List<Job> jobs = new ArrayList<>();
            for (int i = 0; i < ACTIONS_PER_CLIENT; i++) {
                boolean shared = i % SHARED_EVERY == 0;
                long s = seed * 1_000_003 + (shared ? i : (c + 1) * 10_000L + i);
                jobs.add(job(s, shared ? "round " + seed + " shared " + i : "round " + seed + " client " + c + " job " + i));
            }
            Collections.shuffle(jobs, new Random(seed + c)); // clients meet the shared ones at different times
            perClient.add(jobs);
        }
        return perClient;
    }

    /** Uploads, executes and checks one job; returns a description of what was wrong, or null. */
    private static String runAndCheck(ManagedChannel channel, Job job) {
        ContentAddressableStorageGrpc.newBlockingStub(channel)
                .batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder().addAllRequests(job.blobs).build());
        Iterator<Operation> ops = ExecutionGrpc.newBlockingStub(channel)
                .execute(ExecuteRequest.newBuilder().setActionDigest(job.action).build());
        Operation last = null;
        while (ops.hasNext()) last = ops.next();
        if (last == null || !last.getDone()) return "the Execute stream ended without a result";
        ExecuteResponse response;
        try {
            response = last.getResponse().unpack(ExecuteResponse.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            return "not an ExecuteResponse: " + e;
        }
        if (response.getStatus().getCode() != 0) return "status " + response.getStatus();
        if (response.getResult().getExitCode() != 0) return "exit " + response.getResult().getExitCode();
        List<OutputFile> outputs = response.getResult().getOutputFilesList();
        if (outputs.size() != 1 || !outputs.getFirst().getPath().equals("out")) return "outputs " + outputs;
        Digest out = outputs.getFirst().getDigest();
        if (!out.equals(digest(job.expected))) return "output digest " + out.getHash() + " is not the expected one";
        ByteString read = ContentAddressableStorageGrpc.newBlockingStub(channel)
                .batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(out).build()).getResponses(0).getData();
        return read.equals(job.expected) ? null : "the output blob read back differs";
    }

    /**
     * Runs a round with one channel per client. Every result counts down done; a client whose
     * server went away stops. Returns each problem found, and how many jobs never got a result.
     */
    private static List<String> runRound(int port, List<List<Job>> round, CountDownLatch done) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        List<Future<List<String>>> results = new ArrayList<>();
        for (List<Job> jobs : round) {
            results.add(clients.submit(() -> {
                List<String> problems = new ArrayList<>();
                ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
                        .maxInboundMessageSize(64 << 20).build();
                try {
                    for (int i = 0; i < jobs.size(); i++) {
                        try {
                            String problem = runAndCheck(channel, jobs.get(i));
                            if (problem != null) problems.add(jobs.get(i).action.getHash() + ": " + problem);
                            done.countDown();
                        } catch (StatusRuntimeException e) {
                            problems.add("lost " + (jobs.size() - i) + " jobs: " + e.getStatus());
                            break;
                        }
                    }
                } finally {
                    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
                }
                return problems;
            }));
        }
        List<String> problems = new ArrayList<>();
        for (Future<List<String>> f : results) problems.addAll(f.get(10, TimeUnit.MINUTES));
        clients.shutdown();
        return problems;
    }

    @Test
    void eightClientsGetEveryResultRightAndAKilledServerRestartsIntact() throws Exception {
        Path cache = dir.resolve("cache");
        ServeProcess server = start(cache);
        List<List<Job>> first = round(1);
        List<String> problems = runRound(server.port, first, new CountDownLatch(0));
        assertEquals(List.of(), problems, "with 8 clients and " + CLIENTS * ACTIONS_PER_CLIENT + " actions");

        // The second round is cut short by SIGKILL once a quarter of its results are in.
        List<List<Job>> second = round(2);
        CountDownLatch quarter = new CountDownLatch(CLIENTS * ACTIONS_PER_CLIENT / 4);
        Thread killer = Thread.ofPlatform().start(() -> {
            try {
                quarter.await();
                server.process.destroyForcibly().waitFor(); // SIGKILL
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        List<String> cut = runRound(server.port, second, quarter);
        killer.join();
        assertTrue(cut.stream().anyMatch(p -> p.startsWith("lost")), "the kill cut the round short: " + cut);
        assertTrue(cut.stream().allMatch(p -> p.startsWith("lost")), "no wrong result before the kill: " + cut);

        StoreCheck.assertBlobsIntact(cache);
        ServeProcess restarted = start(cache);
        StoreCheck.assertConsistent(cache);
        assertEquals(List.of(), runRound(restarted.port, second, new CountDownLatch(0)), "after the restart");
        StoreCheck.assertConsistent(cache);
        // The first round's results are still served, each with its own output.
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", restarted.port).usePlaintext().build();
        try {
            for (List<Job> jobs : first)
                for (Job job : jobs.subList(0, 8))
                    assertEquals(digest(job.expected), ActionCacheGrpc.newBlockingStub(channel).getActionResult(
                            GetActionResultRequest.newBuilder().setActionDigest(job.action).build())
                            .getOutputFiles(0).getDigest());
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private ServeProcess start(Path cache) throws Exception {
        servers.add(ServeProcess.start(List.of(), cache, "--workers", "4"));
        return servers.getLast();
    }

    private static Digest digest(ByteString data) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(data.toByteArray());
            return Digest.newBuilder().setHash(HexFormat.of().formatHex(hash)).setSizeBytes(data.size()).build();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
