package dev.paddock.cli;

import static dev.paddock.cli.CliTest.paddock;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.paddock.internal.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** paddock run --sandbox with the hermetic preset and overlays, as users type it. */
class CliSandboxTest {
    @BeforeAll
    static void userNamespacesAvailable() throws Exception {
        String max = Files.readAllLines(Path.of("/proc/sys/user/max_user_namespaces")).get(0).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
    }

    @Test
    void hermeticWithAnOverlayReportsBoth(@TempDir Path dir, @TempDir Path undeclared) throws Exception {
        Path base = Files.createDirectories(dir.resolve("base"));
        Path patch = Files.createDirectories(dir.resolve("patch"));
        Files.writeString(base.resolve("version"), "base\n");
        Files.writeString(patch.resolve("version"), "patched\n");
        Path json = dir.resolve("outcome.json");
        CliTest.Result r = paddock(dir, "run", "--sandbox", "--hermetic", "--json", json.toString(),
                "--overlay", base + ":" + patch + ":/tmp/sdk", "--",
                "sh", "-c", "cat /tmp/sdk/version; echo scratch > /tmp/sdk/new; test ! -e " + undeclared);
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("patched\n", r.stdout());
        assertTrue(Files.notExists(patch.resolve("new")) && Files.notExists(base.resolve("new")), "a layer changed");
        Map<String, Object> record = Json.parseObject(Files.readString(json));
        assertTrue(((String) record.get("sandbox")).startsWith("hermetic"), record.toString());
        assertTrue(record.get("overlays") instanceof Map<?, ?> m && m.containsKey("/tmp/sdk"), record.toString());
    }

    @Test
    void badOverlayOptionsAreUsageErrors(@TempDir Path dir) throws Exception {
        CliTest.Result missing = paddock(dir, "run", "--sandbox", "--overlay", dir.resolve("nope") + ":/tmp/x",
                "--", "true");
        assertEquals(125, missing.exitCode());
        assertTrue(missing.stderr().contains("is not a directory"), missing.stderr());
        CliTest.Result impl = paddock(dir, "run", "--sandbox", "--overlay-impl", "magic", "--", "true");
        assertEquals(125, impl.exitCode());
        assertTrue(impl.stderr().contains("auto, kernel, fuse, bind"), impl.stderr());
        CliTest.Result noSandbox = paddock(dir, "run", "--hermetic", "--", "true");
        assertEquals(125, noSandbox.exitCode());
        assertTrue(noSandbox.stderr().contains("need --sandbox"), noSandbox.stderr());
    }

    @Test
    void noSeccompLetsTheActionCreateANestedNamespace(@TempDir Path dir) throws Exception {
        // unshare(1) needs nothing but the syscall: refused under the default filter, allowed without it.
        CliTest.Result filtered = paddock(dir, "run", "--sandbox", "--", "unshare", "--user", "true");
        assertTrue(filtered.exitCode() != 0 && filtered.stderr().contains("Operation not permitted"),
                filtered.exitCode() + " " + filtered.stderr());
        CliTest.Result unfiltered = paddock(dir, "run", "--sandbox", "--no-seccomp", "--", "unshare", "--user", "true");
        assertEquals(0, unfiltered.exitCode(), unfiltered.stderr());
    }
}
