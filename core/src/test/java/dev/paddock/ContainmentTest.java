package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainmentTest extends PaddockTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    /** A script that leaves a setsid daemon and a double-forked daemon, writing their pids and its own. */
    static String daemons(Path pids) {
        return "echo $$ >> " + pids + "; "
                + "setsid sleep 600 & echo $! >> " + pids + "; "
                + "(sleep 600 & echo $! >> " + pids + ") ; ";
    }

    @Test
    void timeoutKillsSetsidAndDoubleForkedDaemons(@TempDir Path dir) throws Exception {
        Path pids = dir.resolve("pids");
        Execution e = paddock.start(Action.newBuilder("sh", "-c", daemons(pids) + "sleep 600")
                .timeout(Duration.ofMillis(500)).build());
        List<Long> started = Procs.awaitPids(pids, 3, WAIT);
        Outcome o = e.await();
        assertEquals(124, o.exitCode());
        assertTrue(o.timedOut());
        assertEquals(List.of(), Procs.survivors(started.subList(1, 3), "sleep", Duration.ZERO),
                "daemons must be dead when the outcome is reported");
    }

    @Test
    void normalExitKillsLeftoverDaemons(@TempDir Path dir) throws Exception {
        Path pids = dir.resolve("pids");
        Outcome o = paddock.run(Action.newBuilder("sh", "-c", daemons(pids) + "exit 0").build());
        assertEquals(0, o.exitCode());
        List<Long> started = Procs.awaitPids(pids, 3, Duration.ZERO);
        assertEquals(List.of(), Procs.survivors(started.subList(1, 3), "sleep", Duration.ZERO));
    }

    @Test
    void cancelTerminatesTheTreeGracefully(@TempDir Path dir) throws Exception {
        Path pids = dir.resolve("pids");
        Path trapped = dir.resolve("trapped");
        Execution e = paddock.start(Action.newBuilder("sh", "-c",
                "trap 'echo term > " + trapped + "; exit 7' TERM; " + daemons(pids) + "sleep 600 & wait").build());
        List<Long> started = Procs.awaitPids(pids, 3, WAIT);
        e.cancel();
        Outcome o = e.await();
        assertEquals(7, o.exitCode(), "the action got SIGTERM first and could clean up");
        assertEquals("SIGTERM", o.cancelledBy().orElseThrow());
        assertEquals("term\n", Files.readString(trapped));
        assertEquals(List.of(), Procs.survivors(started.subList(1, 3), "sleep", Duration.ZERO));
    }

    @Test
    void cancelRightAfterStartIsNotLost() throws Exception {
        cancelRightAfterStart(Action.newBuilder("sleep", "600"));
    }

    /**
     * Cancels actions the moment they start: the cancel may reach the launcher before it reads
     * signals, or a keeper before it has read the request.
     */
    static void cancelRightAfterStart(Action.Builder action) throws Exception {
        for (int i = 0; i < 20; i++) {
            Execution e = paddock.start(action.build());
            e.cancel();
            Outcome o = e.await(WAIT).orElseThrow(() -> new AssertionError("no outcome: the cancel was lost"));
            assertEquals("SIGTERM", o.cancelledBy().orElseThrow(() -> new AssertionError(o.toString())));
        }
    }

    @Test
    void graceRunsOutThenSigkill() throws Exception {
        Outcome o = paddock.run(Action.newBuilder("sh", "-c", "trap '' TERM; while :; do sleep 1; done")
                .timeout(Duration.ofMillis(200)).killGrace(Duration.ofMillis(200)).build());
        assertEquals(124, o.exitCode());
        assertTrue(o.killedAfterGrace());
        assertEquals("SIGKILL", o.signal().orElseThrow());
    }

    @Test
    void interruptSendsSigint() throws Exception {
        Execution e = paddock.start(Action.newBuilder("sh", "-c", "echo ready; exec sleep 600")
                .stdout(Stdio.pipe()).build());
        assertEquals("ready\n", new String(e.stdout().readNBytes(6), StandardCharsets.UTF_8));
        e.interrupt();
        Outcome o = e.await();
        assertEquals(130, o.exitCode());
        assertEquals("SIGINT", o.signal().orElseThrow());
    }

    @Test
    void actionSeesOnlyStandardFds() throws Exception {
        // The JVM holds many descriptors (jars, pipes of other actions); none may leak.
        Execution e = paddock.start(Action.newBuilder("sh", "-c", "ls /proc/$$/fd").stdout(Stdio.pipe()).build());
        String fds = new String(e.stdout().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, e.await().exitCode());
        assertEquals(List.of("0", "1", "2"), fds.lines().toList());
    }

    @Test
    void eachActionHasItsOwnSessionAndProcessGroup() throws Exception {
        Execution e = paddock.start(Action.newBuilder("sh", "-c", "ps -o pid=,pgid=,sid= -p $$").stdout(Stdio.pipe()).build());
        String[] ids = new String(e.stdout().readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+");
        assertEquals(0, e.await().exitCode());
        assertEquals(ids[0], ids[1], "process group leader");
        assertEquals(ids[0], ids[2], "session leader");
        assertNotEquals(Long.toString(ProcessHandle.current().pid()), ids[2]);
    }

    @Test
    void hundredMegabytesOnStdoutStreamWithoutHanging() throws Exception {
        long size = 100L * 1000 * 1000;
        Execution e = paddock.start(Action.newBuilder("head", "-c", Long.toString(size), "/dev/zero")
                .stdout(Stdio.pipe()).build());
        long total = 0;
        byte[] buf = new byte[1 << 16];
        try (InputStream in = e.stdout()) {
            for (int n; (n = in.read(buf)) > 0; ) total += n;
        }
        assertEquals(size, total);
        assertEquals(0, e.await().exitCode());
    }

    @Test
    void grandchildHoldingStdoutDoesNotHangTheReader() throws Exception {
        // The grandchild keeps the pipe open; the outcome arrives anyway, and the
        // tree kill closes the pipe so the reader reaches EOF.
        Execution e = paddock.start(Action.newBuilder("sh", "-c", "(sleep 600 &) ; echo done")
                .stdout(Stdio.pipe()).build());
        Outcome o = e.await();
        assertEquals(0, o.exitCode());
        assertEquals("done\n", new String(e.stdout().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void stdinPipeAndEof() throws Exception {
        Execution e = paddock.start(Action.newBuilder("tr", "a-z", "A-Z")
                .stdin(Stdio.pipe()).stdout(Stdio.pipe()).build());
        try (OutputStream in = e.stdin()) {
            in.write("hello paddock\n".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals("HELLO PADDOCK\n", new String(e.stdout().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(0, e.await().exitCode());
    }

    @Test
    void filesAreWrittenDirectlyAndAppended(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("log");
        Path input = Files.writeString(dir.resolve("in"), "from a file\n");
        for (int i = 0; i < 2; i++)
            assertEquals(0, paddock.run(Action.newBuilder("sh", "-c", "cat; echo err >&2")
                    .stdin(Stdio.file(input)).stdout(Stdio.append(log)).stderr(Stdio.append(log)).build()).exitCode());
        assertEquals("from a file\nerr\nfrom a file\nerr\n", Files.readString(log));
        Path truncated = dir.resolve("truncated");
        Files.writeString(truncated, "old content that is longer\n");
        paddock.run(Action.newBuilder("echo", "new").stdout(Stdio.file(truncated)).build());
        assertEquals("new\n", Files.readString(truncated));
    }

    @Test
    void awaitFromVirtualThreadsAndAsync() throws Exception {
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new java.util.ArrayList<java.util.concurrent.Future<Integer>>();
            for (int i = 0; i < 50; i++) {
                int code = i % 7;
                futures.add(threads.submit(() -> paddock.run(Action.newBuilder("sh", "-c", "exit " + code).build()).exitCode()));
            }
            for (int i = 0; i < futures.size(); i++) assertEquals(i % 7, futures.get(i).get());
        }
        assertEquals(5, paddock.runAsync(Action.newBuilder("sh", "-c", "exit 5").build()).get().exitCode());
    }

    @Test
    void closeStopsEverythingItStarted(@TempDir Path dir) throws Exception {
        Path pids = dir.resolve("pids");
        Paddock own = Paddock.create(mode);
        Execution e = own.start(Action.newBuilder("sh", "-c", daemons(pids) + "sleep 600").build());
        List<Long> started = Procs.awaitPids(pids, 3, WAIT);
        own.close();
        assertTrue(e.isDone());
        assertEquals(List.of(), Procs.survivors(started, "s", Duration.ZERO));
    }
}
