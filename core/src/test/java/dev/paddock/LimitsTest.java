package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.paddock.testing.ForkBomb;
import dev.paddock.testing.HostTools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each limit, reached by a real process: a CPU burner, a file that grows past its bound, a memory
 * hog and a fork bomb each end with a clear outcome, and the next action runs as usual.
 */
class LimitsTest extends SandboxedTest {
    @TempDir
    Path work;

    record Run(Outcome outcome, String stdout, String stderr) {}

    private static Run run(Action.Builder action) throws Exception {
        Execution e = paddock.start(action.stdout(Stdio.pipe()).stderr(Stdio.pipe()).build());
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(e.stderr().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException x) {
                throw new java.io.UncheckedIOException(x);
            }
        });
        String out = new String(e.stdout().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(e.await(), out, err.get());
    }

    private void nextActionRuns() throws Exception {
        assertEquals("fine\n", output(Action.newBuilder("echo", "fine").sandbox(Sandbox.hostReadOnly())));
    }

    @Test
    void aCpuBurnerEndsWithSigxcpu() throws Exception {
        for (Sandbox sandbox : new Sandbox[] {null, Sandbox.hostReadOnly()}) {
            Run r = run(Action.newBuilder("sh", "-c", "exec sh -c 'while :; do :; done'").sandbox(sandbox)
                    .limits(Limits.newBuilder().cpuTime(Duration.ofMillis(500)).build()));
            assertEquals(Optional.of("SIGXCPU"), r.outcome.signal(), r.outcome.toString());
            assertEquals(Optional.of("cpu-time"), r.outcome.limitExceeded());
        }
        nextActionRuns();
    }

    @Test
    void aFileCannotGrowPastItsLimit() throws Exception {
        Path file = work.resolve("big");
        Run r = run(Action.newBuilder("dd", "if=/dev/zero", "of=" + file, "bs=64k", "count=64").directory(work)
                .sandbox(Sandbox.hostReadOnly()).limits(Limits.newBuilder().fileSizeBytes(1 << 20).build()));
        assertEquals(Optional.of("SIGXFSZ"), r.outcome.signal(), r.outcome + " " + r.stderr);
        assertEquals(Optional.of("file-size"), r.outcome.limitExceeded());
        assertEquals(1 << 20, Files.size(file), "the file stopped at the limit");
        nextActionRuns();
    }

    @Test
    void aMemoryHogGetsNoMoreThanItsLimit() throws Exception {
        HostTools.require("python3", "python3");
        Run r = run(Action.newBuilder("python3", "-c", "x = bytearray(512 << 20); print('allocated')")
                .sandbox(Sandbox.hostReadOnly()).limits(Limits.newBuilder().memoryBytes(128L << 20).build()));
        assertEquals(1, r.outcome.exitCode(), r.outcome + " " + r.stderr);
        assertTrue(r.stderr.contains("MemoryError"), r.stderr);
        assertEquals("", r.stdout);
        Run small = run(Action.newBuilder("python3", "-c", "x = bytearray(16 << 20); print('allocated')")
                .sandbox(Sandbox.hostReadOnly()).limits(Limits.newBuilder().memoryBytes(128L << 20).build()));
        assertEquals("allocated\n", small.stdout, small.stderr);
    }

    /**
     * A fork bomb in a sandbox: fork fails once the limit is reached (RLIMIT_NPROC for a user
     * that is not root; the pid namespace's pid_max, at least 301, for root too), the bomb's
     * processes all end with it, and the next action runs.
     */
    @Test
    void aForkBombIsBounded() throws Exception {
        HostTools.require("python3", "python3");
        boolean root = (int) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
        if (root) assumeTrue(perNamespacePidMax(), "this kernel has no per-pid-namespace pid_max (Linux 6.14 and"
                + " later), and the kernel exempts root from RLIMIT_NPROC: nothing bounds a root fork bomb here");
        Run r = run(Action.newBuilder("python3", "-c", ForkBomb.PYTHON).sandbox(Sandbox.hostReadOnly())
                .limits(Limits.newBuilder().processes(100).build()).timeout(Duration.ofMinutes(1)));
        OptionalInt refused = ForkBomb.forkedBeforeEagain(r.stdout);
        assertTrue(refused.isPresent(), "fork failed with EAGAIN: " + r.stdout + r.stderr);
        int forked = refused.getAsInt();
        assertTrue(forked <= (root ? 301 : 100), "forked " + forked + " processes");
        assertEquals(0, r.outcome.exitCode(), r.outcome.toString());
        nextActionRuns();
    }

    @Test
    void aProcessLimitNeedsASandbox() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Action.newBuilder("true")
                .limits(Limits.newBuilder().processes(10).build()).build());
        assertTrue(e.getMessage().contains("needs a sandbox"), e.getMessage());
    }

    /** Whether a new pid namespace's kernel.pid_max can be lowered (Linux 6.14 and later). */
    private static boolean perNamespacePidMax() throws Exception {
        HostTools.require("util-linux", "unshare");
        return run(Action.newBuilder("unshare", "-Upfr", "--mount-proc", "sh", "-c",
                "echo 400 > /proc/sys/kernel/pid_max && cat /proc/sys/kernel/pid_max")).stdout.strip().equals("400");
    }
}
