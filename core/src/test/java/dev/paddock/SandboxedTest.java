package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;

/** Tests of sandboxed actions: skipped only where the kernel allows no user namespaces. */
abstract class SandboxedTest extends PaddockTest {
    @BeforeAll
    static void userNamespacesAvailable() throws IOException {
        String max = Files.readAllLines(Path.of("/proc/sys/user/max_user_namespaces")).get(0).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
    }

    /** Runs the action, asserts it exited 0, and returns its stdout. */
    static String output(Action.Builder action) throws Exception {
        Execution e = paddock.start(action.stdout(Stdio.pipe()).build());
        String out = new String(e.stdout().readAllBytes(), StandardCharsets.UTF_8);
        Outcome o = e.await();
        assertEquals(0, o.exitCode(), "outcome " + o + " output " + out);
        return out;
    }
}
