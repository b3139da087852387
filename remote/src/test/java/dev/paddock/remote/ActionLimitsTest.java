package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.shell;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.Platform;
import dev.paddock.Limits;
import dev.paddock.testing.ForkBomb;
import dev.paddock.testing.HostTools;
import com.google.rpc.Code;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server's per-action limits: a fork bomb, a memory hog, a disk filler and a CPU burner each
 * end with a result that says what happened, and the server goes on serving. Platform properties
 * lower a limit for one action, never raise it.
 */
@Timeout(300)
class ActionLimitsTest extends ServerTest {
    private static final Limits LIMITS = Limits.newBuilder().memoryBytes(256L << 20).processes(100)
            .cpuTime(Duration.ofSeconds(1)).fileSizeBytes(1 << 20).build();

    @BeforeEach
    void start() throws Exception {
        assumeTrue(!Files.readString(Path.of("/proc/sys/user/max_user_namespaces")).strip().equals("0"),
                "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        HostTools.require("python3", "python3");
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).actionLimits(LIMITS));
    }

    private ActionResult run(Command command, UnaryOperator<Action.Builder> tweak) {
        Digest action = remote.uploadAction(command, new InputTree(), tweak);
        return remote.execute(action).result();
    }

    private ActionResult run(Command command) {
        return run(command, a -> a);
    }

    private static Command python(String program) {
        return Command.newBuilder().addAllArguments(List.of("/usr/bin/python3", "-c", program))
                .addEnvironmentVariables(Command.EnvironmentVariable.newBuilder().setName("PATH").setValue("/usr/bin:/bin"))
                .build();
    }

    private void serverStillServes() {
        ActionResult r = run(shell("echo fine"));
        assertEquals(0, r.getExitCode(), remote.describe(r));
        assertEquals("fine\n", remote.text(r.getStdoutDigest()));
    }

    @Test
    void aForkBombIsBounded() throws Exception {
        boolean root = (int) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
        ActionResult r = run(python(ForkBomb.PYTHON));
        String out = remote.text(r.getStdoutDigest());
        OptionalInt refused = ForkBomb.forkedBeforeEagain(out);
        assumeTrue(refused.isPresent() || !root, "this kernel has no per-pid-namespace pid_max (Linux 6.14+), and "
                + "root is exempt from RLIMIT_NPROC: " + remote.describe(r));
        assertTrue(refused.isPresent(), "fork failed with EAGAIN: " + remote.describe(r));
        assertTrue(refused.getAsInt() <= (root ? 301 : 100), out);
        serverStillServes();
    }

    @Test
    void aMemoryHogFailsToAllocateAndIsToldWhy() {
        ActionResult r = run(python("x = bytearray(1 << 30)"));
        assertEquals(1, r.getExitCode(), remote.describe(r));
        String err = remote.text(r.getStderrDigest());
        assertTrue(err.contains("MemoryError"), err);
        assertTrue(!err.contains("paddock serve:"), "no note from the server: the action said what failed: " + err);
        serverStillServes();
    }

    @Test
    void aDiskFillerStopsAtTheFileSizeLimit() {
        ActionResult r = run(shell("head -c 8388608 /dev/zero > out", "out"));
        assertEquals(128 + 25, r.getExitCode(), remote.describe(r)); // the shell reports head's SIGXFSZ
        assertTrue(remote.text(r.getStderrDigest()).contains("paddock serve: exit 153: a process the action ran was "
                + "probably ended by SIGXFSZ, at the file size limit (1048576 bytes)"), remote.describe(r));
        assertEquals(1 << 20, r.getOutputFiles(0).getDigest().getSizeBytes());
        ActionResult direct = run(Command.newBuilder().addAllArguments(List.of("/bin/dd", "if=/dev/zero", "of=big",
                "bs=1M", "count=4")).addOutputPaths("big").build());
        assertEquals(128 + 25, direct.getExitCode(), remote.describe(direct));
        assertTrue(remote.text(direct.getStderrDigest()).contains("paddock serve: ended by SIGXFSZ"),
                remote.describe(direct));
        serverStillServes();
    }

    @Test
    void aCpuBurnerEndsWithSigxcpu() {
        ActionResult r = run(Command.newBuilder().addAllArguments(List.of("/bin/sh", "-c", "while :; do :; done"))
                .build());
        assertEquals(128 + 24, r.getExitCode(), remote.describe(r));
        assertTrue(remote.text(r.getStderrDigest()).contains("paddock serve: ended by SIGXCPU: the action reached "
                + "its CPU time limit (1 s)"), remote.describe(r));
        serverStillServes();
    }

    private static UnaryOperator<Action.Builder> platform(String name, String value) {
        return a -> a.setPlatform(Platform.newBuilder().addProperties(
                Platform.Property.newBuilder().setName(name).setValue(value)));
    }

    @Test
    void platformPropertiesLowerALimitButNeverRaiseIt() {
        Command allocate = python("x = bytearray(100 << 20); print('allocated')");
        assertEquals("allocated\n", remote.text(run(allocate).getStdoutDigest()));
        ActionResult lowered = run(allocate, platform("paddock.memory", "64M"));
        assertEquals(1, lowered.getExitCode(), remote.describe(lowered));
        assertTrue(remote.text(lowered.getStderrDigest()).contains("MemoryError"), remote.describe(lowered));

        ActionResult capped = run(Command.newBuilder().addAllArguments(List.of("/bin/dd", "if=/dev/zero", "of=big",
                "bs=1M", "count=4")).build(), platform("paddock.file-size", "10G"));
        assertEquals(128 + 25, capped.getExitCode(), "a property cannot raise the server's limit: "
                + remote.describe(capped));

        Digest bad = remote.uploadAction(allocate, new InputTree(), platform("paddock.memory", "lots"));
        ExecuteResponse refused = remote.execute(bad).response();
        assertEquals(Code.INVALID_ARGUMENT_VALUE, refused.getStatus().getCode(), refused.toString());
        assertTrue(refused.getStatus().getMessage().contains("platform property paddock.memory 'lots' must be a "
                + "positive size"), refused.getStatus().getMessage());
    }
}
