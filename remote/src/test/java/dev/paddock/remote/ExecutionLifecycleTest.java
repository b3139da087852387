package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.EXECUTE;
import static dev.paddock.remote.RemoteFixture.assertStatus;
import static dev.paddock.remote.RemoteFixture.shell;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import com.google.rpc.Code;
import io.grpc.Context;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operations over time: WaitExecution, clients that go away, the queue in front of a fixed
 * number of workers, and closing the server. Tests that must see an action's processes from
 * outside run it unsandboxed (.sandbox(null)), so that it can write its pids to a directory of
 * the test's; they wait on those files and on stream messages, never on the clock.
 */
@Timeout(180)
class ExecutionLifecycleTest extends ServerTest {
    @TempDir
    Path shared;

    /** Waits until the action has written file (it writes to a temporary name and renames it); returns its words. */
    private static List<String> awaitFile(Path file) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + RemoteFixture.WAIT.toNanos();
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline)
                throw new AssertionError("the action did not write " + file + " within " + RemoteFixture.WAIT);
            Thread.sleep(5); // polling a file the action writes: the event is the file
        }
        return Arrays.asList(Files.readString(file, StandardCharsets.UTF_8).trim().split("\\s+"));
    }

    /** Waits until none of pids has a /proc entry (bounded); fails naming those still there. */
    private static void awaitGone(List<Long> pids) throws InterruptedException {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(15).toNanos();
        for (;;) {
            List<String> left = new ArrayList<>();
            for (long pid : pids) {
                Path proc = Path.of("/proc/" + pid);
                if (Files.exists(proc)) left.add(pid + " (" + state(proc) + ")");
            }
            if (left.isEmpty()) return;
            if (System.nanoTime() > deadline) throw new AssertionError("still there: " + left);
            Thread.sleep(10);
        }
    }

    /** "S sleep 600": the process's state and command line, for failure messages. */
    private static String state(Path proc) {
        try {
            String stat = Files.readString(proc.resolve("stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[0] + " "
                    + Files.readString(proc.resolve("cmdline")).replace('\0', ' ').trim();
        } catch (IOException | RuntimeException e) {
            return "gone";
        }
    }

    /** A script that starts sleep 600 in the background, writes "SHELL_PID SLEEP_PID" to file, and waits. */
    private static String sleeperWritingPidsTo(Path file) {
        return "sleep 600 & echo $$ $! > " + file + ".tmp && mv " + file + ".tmp " + file + " && wait";
    }

    private static int compare(Timestamp a, Timestamp b) {
        int c = Long.compare(a.getSeconds(), b.getSeconds());
        return c != 0 ? c : Integer.compare(a.getNanos(), b.getNanos());
    }

    private static List<Long> pids(List<String> words) {
        return words.stream().map(Long::parseLong).toList();
    }

    @Test
    void waitExecutionOfAFinishedOperationReturnsItsFinalState() throws Exception {
        remote = RemoteFixture.start(cache);
        Digest action = remote.uploadAction(shell("echo waited"), new InputTree());
        RemoteFixture.ExecuteRun run = remote.execute(action);

        RemoteFixture.ExecuteRun waited = remote.startWaitExecution(run.name()).awaitEnd();
        assertEquals(1, waited.operations().size(), "a finished operation: one message, the final state");
        assertEquals(run.last(), waited.last());
        assertEquals("waited\n", remote.text(waited.result().getStdoutDigest()));

        // the blocking stub sees the same
        List<Operation> ops = new ArrayList<>();
        remote.execution().waitExecution(WaitExecutionRequest.newBuilder().setName(run.name()).build()).forEachRemaining(ops::add);
        assertEquals(List.of(run.last()), ops);
    }

    @Test
    void waitExecutionOfAnUnknownNameIsNotFound() throws Exception {
        remote = RemoteFixture.start(cache);
        for (String name : List.of("operations/" + UUID.randomUUID(), "", "nonsense"))
            assertStatus(Status.Code.NOT_FOUND, () -> remote.execution()
                    .waitExecution(WaitExecutionRequest.newBuilder().setName(name).build()).forEachRemaining(op -> {}));
    }

    @Test
    void aClientThatCancelsExecuteGetsItsActionKilled() throws Exception {
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).sandbox(null));
        Path pidFile = shared.resolve("pids");
        Digest action = remote.uploadAction(shell(sleeperWritingPidsTo(pidFile)), new InputTree());

        Context.CancellableContext context = Context.current().withCancellation();
        RemoteFixture.OperationStream<ExecuteRequest> stream = new RemoteFixture.OperationStream<>();
        context.run(() -> remote.executionAsync().execute(ExecuteRequest.newBuilder().setActionDigest(action).build(), stream));
        String name = stream.next().getName();
        List<Long> pids = pids(awaitFile(pidFile));
        assertEquals(2, pids.size());
        for (long pid : pids) assertTrue(Files.exists(Path.of("/proc/" + pid)), "the action runs: " + pid);

        context.cancel(null);
        assertEquals(Status.Code.CANCELLED, stream.awaitError().getCode());
        awaitGone(pids);

        // the operation ended as cancelled, and nothing went into the cache
        RemoteFixture.ExecuteRun after = remote.startWaitExecution(name).awaitEnd();
        assertEquals(Code.CANCELLED_VALUE, after.response().getStatus().getCode(), after.response().toString());
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action));
    }

    @Test
    void anOperationSomeoneStillWaitsForKeepsRunningWhenExecuteIsCancelled() throws Exception {
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).sandbox(null));
        Path started = shared.resolve("started");
        Path go = shared.resolve("go");
        Digest action = remote.uploadAction(shell("echo yes > " + started + ".tmp && mv " + started + ".tmp " + started
                        + " && while [ ! -e " + go + " ]; do sleep 0.05; done && echo released"),
                new InputTree(), a -> a.setTimeout(Duration.newBuilder().setSeconds(120)));

        RemoteFixture.OperationStream<ExecuteRequest> execute = remote.startExecute(action);
        String name = execute.next().getName();
        awaitFile(started);
        RemoteFixture.OperationStream<WaitExecutionRequest> waiter = remote.startWaitExecution(name);
        assertEquals(name, waiter.next().getName()); // the waiter is registered once it has the current state

        int closed = remote.calls.closed(EXECUTE);
        execute.cancel();
        remote.calls.awaitClosed(EXECUTE, closed + 1); // the server has seen the Execute call go
        Files.writeString(shared.resolve("go"), "");

        RemoteFixture.ExecuteRun run = waiter.awaitEnd();
        ExecuteResponse response = run.response();
        assertEquals(Code.OK_VALUE, response.getStatus().getCode(), response.toString());
        assertEquals(0, response.getResult().getExitCode());
        assertEquals("released\n", remote.text(response.getResult().getStdoutDigest()));
    }

    @Test
    void withOneWorkerASecondActionIsQueuedUntilTheFirstEnds() throws Exception {
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).workers(1).sandbox(null));
        // the first action holds the only worker until the test creates the file go
        Path go = shared.resolve("go");
        Digest slow = remote.uploadAction(shell("while [ ! -e " + go + " ]; do sleep 0.05; done; echo first"),
                new InputTree(), a -> a.setTimeout(Duration.newBuilder().setSeconds(120)));
        Digest second = remote.uploadAction(shell("echo second"), new InputTree());

        RemoteFixture.OperationStream<ExecuteRequest> first = remote.startExecute(slow);
        first.awaitStage(ExecutionStage.Value.EXECUTING);
        RemoteFixture.OperationStream<ExecuteRequest> queued = remote.startExecute(second);
        queued.awaitStage(ExecutionStage.Value.QUEUED);
        assertFalse(queued.stages().contains(ExecutionStage.Value.EXECUTING),
                "the only worker is busy with the first action, yet: " + queued.stages());

        Files.writeString(go, "");
        RemoteFixture.ExecuteRun slowRun = first.awaitEnd();
        assertEquals(Code.OK_VALUE, slowRun.response().getStatus().getCode(), slowRun.response().toString());
        assertEquals("first\n", remote.text(slowRun.result().getStdoutDigest()));
        RemoteFixture.ExecuteRun run = queued.awaitEnd();
        ExecutionTest.assertStagesInOrder(run.stages(), ExecutionStage.Value.CACHE_CHECK, ExecutionStage.Value.QUEUED,
                ExecutionStage.Value.EXECUTING, ExecutionStage.Value.COMPLETED);
        assertEquals(0, run.result().getExitCode(), remote.describe(run.result()));
        assertEquals("second\n", remote.text(run.result().getStdoutDigest()));

        Timestamp firstDone = slowRun.result().getExecutionMetadata().getWorkerCompletedTimestamp();
        Timestamp secondStart = run.result().getExecutionMetadata().getWorkerStartTimestamp();
        assertTrue(compare(firstDone, secondStart) <= 0,
                "the second action started (" + secondStart + ") before the first ended (" + firstDone + ")");
        assertTrue(compare(run.result().getExecutionMetadata().getQueuedTimestamp(), firstDone) < 0,
                "the second action was queued while the first ran");
    }

    @Test
    void aCancelAsSoonAsTheActionStartsStillKillsIt() throws Exception {
        // The client goes away the moment the server says EXECUTING: the cancel then reaches the
        // action right after it was handed to paddock. Each action would otherwise run 20 s.
        remote = RemoteFixture.start(cache);
        for (int i = 0; i < 6; i++) {
            int salt = i;
            Digest action = remote.uploadAction(shell("sleep 600"), new InputTree(), a -> a
                    .setTimeout(Duration.newBuilder().setSeconds(20)).setSalt(ByteString.copyFromUtf8("run " + salt)));
            RemoteFixture.OperationStream<ExecuteRequest> stream = remote.startExecute(action);
            String name = stream.awaitStage(ExecutionStage.Value.EXECUTING).getName();
            long cancelled = System.nanoTime();
            int closed = remote.calls.closed(EXECUTE);
            stream.cancel();
            // only then watch the operation: a watcher that came first would keep it alive, by design
            remote.calls.awaitClosed(EXECUTE, closed + 1);
            RemoteFixture.ExecuteRun run = remote.startWaitExecution(name).awaitEnd();
            long seconds = (System.nanoTime() - cancelled) / 1_000_000_000L;
            assertEquals(Code.CANCELLED_VALUE, run.response().getStatus().getCode(), run.response().toString());
            assertTrue(seconds < 12, "run " + i + ": the cancelled action ended only after " + seconds
                    + " s (its 20 s timeout?): the cancel was lost");
        }
    }

    @Test
    void aQueuedActionWhoseClientWentAwayNeverRuns() throws Exception {
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).workers(1).sandbox(null));
        Path pidFile = shared.resolve("pids");
        Path ran = shared.resolve("ran");
        Digest slow = remote.uploadAction(shell(sleeperWritingPidsTo(pidFile)), new InputTree());
        Digest never = remote.uploadAction(shell("echo > " + ran), new InputTree());

        RemoteFixture.OperationStream<ExecuteRequest> first = remote.startExecute(slow);
        List<Long> pids = pids(awaitFile(pidFile));
        RemoteFixture.OperationStream<ExecuteRequest> queued = remote.startExecute(never);
        String name = queued.awaitStage(ExecutionStage.Value.QUEUED).getName();
        int closed = remote.calls.closed(EXECUTE);
        queued.cancel();
        remote.calls.awaitClosed(EXECUTE, closed + 1);
        RemoteFixture.OperationStream<WaitExecutionRequest> waiter = remote.startWaitExecution(name);

        first.cancel();
        awaitGone(pids);
        RemoteFixture.ExecuteRun run = waiter.awaitEnd();
        assertEquals(Code.CANCELLED_VALUE, run.response().getStatus().getCode(), run.response().toString());
        assertFalse(Files.exists(ran), "the cancelled action ran");
    }

    @Test
    void closingTheServerKillsRunningActionsAndCancelsQueuedOnes() throws Exception {
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).workers(1).sandbox(null));
        Path pidFile = shared.resolve("pids");
        Path ran = shared.resolve("ran");
        Digest action = remote.uploadAction(shell(sleeperWritingPidsTo(pidFile)), new InputTree());
        Digest never = remote.uploadAction(shell("echo > " + ran), new InputTree());
        RemoteFixture.OperationStream<ExecuteRequest> running = remote.startExecute(action);
        List<Long> pids = pids(awaitFile(pidFile));
        RemoteFixture.OperationStream<ExecuteRequest> queued = remote.startExecute(never);
        queued.awaitStage(ExecutionStage.Value.QUEUED);

        remote.server.close(); // the RemoteServer alone: the in-process transport stays up
        awaitGone(pids);
        RemoteFixture.ExecuteRun run = running.awaitEnd();
        assertEquals(Code.CANCELLED_VALUE, run.response().getStatus().getCode(), run.response().toString());
        RemoteFixture.ExecuteRun queuedRun = queued.awaitEnd();
        // CANCELLED from the queue, or UNAVAILABLE if the close overtook its handing to the queue
        int code = queuedRun.response().getStatus().getCode();
        assertTrue(code == Code.CANCELLED_VALUE || code == Code.UNAVAILABLE_VALUE, queuedRun.response().toString());
        assertFalse(Files.exists(ran), "a queued action ran after the server closed");
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action));
    }

    /** The server's next log line; the server writes it right after the action's final Operation. */
    private static String nextLine(BlockingQueue<String> log) throws InterruptedException {
        String line = log.poll(10, TimeUnit.SECONDS);
        assertNotNull(line, "no log line within 10 s");
        return line;
    }

    @Test
    void everyCompletedActionIsLoggedOnce() throws Exception {
        BlockingQueue<String> log = new LinkedBlockingQueue<>();
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).log(log::add));
        Digest ok = remote.uploadAction(shell("true"), new InputTree());
        Digest failing = remote.uploadAction(shell("exit 7"), new InputTree());

        remote.execute(ok);
        String first = nextLine(log);
        assertTrue(first.contains(RemoteFixture.format(ok)) && first.contains("exit 0"), first);
        remote.execute(ok);
        assertTrue(nextLine(log).contains("cache hit"));
        remote.execute(failing);
        assertTrue(nextLine(log).contains("exit 7"));
        assertTrue(log.isEmpty(), "more lines than actions: " + log);
    }

    @Test
    void clientTextInALogLineCannotBreakItOrDriveTheTerminal() throws Exception {
        BlockingQueue<String> log = new LinkedBlockingQueue<>();
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).log(log::add));
        // A bad output path is named in the failure the log line carries.
        Digest action = remote.uploadAction(shell("true", "../evil\n12:00:00 action forged exit 0\u001b[2J"),
                new InputTree());

        ExecuteResponse response = remote.execute(action).response();
        assertEquals(Code.INVALID_ARGUMENT_VALUE, response.getStatus().getCode(), response.toString());
        String line = nextLine(log);
        assertTrue(line.chars().noneMatch(c -> c < 0x20 || c == 0x7f), "a control character in: " + line);
        assertTrue(line.contains("../evil\\n12:00:00 action forged exit 0\\x1b[2J"), line);
    }

    @Test
    void anExecuteAfterTheServerClosedIsUnavailableAndLogged() throws Exception {
        BlockingQueue<String> log = new LinkedBlockingQueue<>();
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).log(log::add));
        Digest action = remote.uploadAction(shell("echo too late"), new InputTree());
        remote.server.close(); // the RemoteServer alone: the in-process transport stays up

        ExecuteResponse response = remote.execute(action).response();
        assertEquals(Code.UNAVAILABLE_VALUE, response.getStatus().getCode(), response.toString());
        String line = nextLine(log);
        assertTrue(line.contains("UNAVAILABLE"), line);
    }
}
