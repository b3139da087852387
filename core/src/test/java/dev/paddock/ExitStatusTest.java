package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ExitStatusTest extends PaddockTest {
    static Outcome sh(String script) throws IOException, InterruptedException {
        return paddock.run(Action.newBuilder("sh", "-c", script).stdout(Stdio.discard()).build());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3, 125, 255})
    void ownExitStatusIsPassedThrough(int status) throws Exception {
        Outcome o = sh("exit " + status);
        assertEquals(status, o.exitCode());
        assertEquals(status, o.status().orElseThrow());
        assertTrue(o.setupFailure().isEmpty(), "an action's own 125 is not a setup failure");
        assertFalse(o.timedOut());
    }

    /**
     * onExit() hands the outcome to a callback thread; onExit(Runnable::run) completes on the
     * thread that learned it, paddock's supervisor. The action waits for a line on stdin, so that
     * both are attached before the outcome is known.
     */
    @Test
    void onExitRunsOnCallbackThreadsOrWhereTheExecutorSays() throws Exception {
        Execution e = paddock.start(Action.newBuilder("sh", "-c", "read line; exit 7").stdin(Stdio.pipe())
                .stdout(Stdio.discard()).build());
        CompletableFuture<String> callback = e.onExit().thenApply(o -> o.exitCode() + " " + Thread.currentThread().getName());
        CompletableFuture<String> direct = e.onExit(Runnable::run)
                .thenApply(o -> o.exitCode() + " " + Thread.currentThread().getName());
        e.stdin().write('\n');
        e.stdin().close();
        assertEquals("7 paddock-supervisor", direct.get(30, TimeUnit.SECONDS));
        String onCallbackThread = callback.get(30, TimeUnit.SECONDS);
        assertTrue(onCallbackThread.startsWith("7 ") && !onCallbackThread.endsWith("paddock-supervisor"),
                onCallbackThread);
    }

    @Test
    void killedBySignalIs128PlusN() throws Exception {
        Outcome o = sh("kill -9 $$");
        assertEquals(137, o.exitCode());
        assertEquals("SIGKILL", o.signal().orElseThrow());
        assertTrue(o.status().isEmpty());
    }

    @Test
    void timeoutIs124() throws Exception {
        Outcome o = paddock.run(Action.newBuilder("sleep", "600").timeout(Duration.ofMillis(200)).build());
        assertEquals(124, o.exitCode());
        assertTrue(o.timedOut());
        assertEquals("SIGTERM", o.signal().orElseThrow());
    }

    @Test
    void missingCommandIs127AndNamesPathSearched() throws Exception {
        Outcome o = paddock.run(Action.newBuilder("paddock-no-such-command").env("PATH", "/usr/bin:/bin").build());
        assertEquals(127, o.exitCode());
        SetupFailure f = o.setupFailure().orElseThrow();
        assertTrue(f.isNotFound());
        assertEquals("ENOENT", f.errno().orElseThrow());
        assertEquals("/usr/bin:/bin", f.searchPath().orElseThrow());
        assertTrue(f.describe().contains("paddock-no-such-command"), f.describe());
        assertTrue(f.describe().contains("PATH=/usr/bin:/bin"), f.describe());
    }

    @Test
    void nonExecutableFileIs126(@TempDir Path dir) throws Exception {
        Path script = Files.writeString(dir.resolve("script.sh"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        Outcome o = paddock.run(Action.newBuilder(script.toString()).build());
        assertEquals(126, o.exitCode());
        SetupFailure f = o.setupFailure().orElseThrow();
        assertEquals("EACCES", f.errno().orElseThrow());
        assertEquals(script.toString(), f.path().orElseThrow());
        assertTrue(f.remedy().orElseThrow().contains("chmod"), f.remedy().orElseThrow());
    }

    @Test
    void missingWorkingDirectoryIsASetupFailureNotAnExitStatus(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing");
        Outcome o = paddock.run(Action.newBuilder("true").directory(missing).build());
        assertEquals(125, o.exitCode());
        SetupFailure f = o.setupFailure().orElseThrow();
        assertEquals("chdir", f.step());
        assertEquals(missing.toString(), f.path().orElseThrow());
        assertEquals("chdir", f.syscall().orElseThrow());
        assertEquals("ENOENT", f.errno().orElseThrow());
        assertTrue(o.status().isEmpty(), "the action never ran, so it has no status");
    }

    @Test
    void workingDirectoryAndEnvironmentReachTheAction(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Outcome o = paddock.run(Action.newBuilder("sh", "-c", "pwd; echo \"$PADDOCK_TEST\"")
                .directory(dir)
                .env("PADDOCK_TEST", "a value with spaces")
                .stdout(Stdio.file(out))
                .build());
        assertEquals(0, o.exitCode());
        assertEquals(dir.toRealPath() + "\na value with spaces\n", Files.readString(out));
    }

    @Test
    void resourceUsageIsCollected() throws Exception {
        Outcome o = sh("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done");
        assertEquals(0, o.exitCode());
        assertTrue(o.resourceUsage().maxRssKilobytes() > 0);
        assertTrue(o.resourceUsage().userTime().plus(o.resourceUsage().systemTime()).isPositive());
        assertTrue(o.wallTime().isPositive());
    }

    @Test
    void unopenableRedirectFileThrowsNamingThePath(@TempDir Path dir) {
        Path target = dir.resolve("no/such/dir/out.txt");
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> paddock.start(Action.newBuilder("true").stdout(Stdio.file(target)).build()));
        assertTrue(e.getMessage().contains(target.toString()) && e.getMessage().contains("ENOENT"), e.getMessage());
    }

    @Test
    void outcomeRecordIsJson() throws Exception {
        Outcome o = sh("exit 3");
        String json = o.toJson();
        var map = dev.paddock.internal.Json.parseObject(json);
        assertEquals(3L, map.get("exit_code"));
        assertEquals(false, map.get("timed_out"));
    }
}
