package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.shell;
import static dev.paddock.remote.RemoteFixture.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Inputs are hard links into the store where they are not copies, and an action runs as the
 * server's user: an action that chmods and rewrites an input, or replaces it, must change
 * nothing in the store. The next action and every cache hit get the original bytes.
 */
@Timeout(120)
class ImmutableInputsTest extends ServerTest {
    @BeforeEach
    void start() throws Exception {
        assumeTrue(!Files.readString(Path.of("/proc/sys/user/max_user_namespaces")).strip().equals("0"),
                "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        remote = RemoteFixture.start(cache);
    }

    /** Every way an action might change an input in place: chmod and rewrite, append, truncate, replace. */
    private static final String TAMPER = """
            for f in top src/lib/input out/generated; do
                chmod u+w "$f" 2>/dev/null; echo evil > "$f" 2>/dev/null; echo more >> "$f" 2>/dev/null
                true > "$f" 2>/dev/null
                echo evil > replacement && mv -f replacement "$f" 2>/dev/null
                ln -f replacement "$f" 2>/dev/null
            done
            echo done > out/result
            """;

    @Test
    void anActionThatRewritesOrReplacesItsInputsChangesNothingInTheStore() throws Exception {
        InputTree inputs = new InputTree().file("top", "original top\n").file("src/lib/input", "original input\n")
                .file("out/generated", "original generated\n");
        Digest tamper = remote.uploadAction(shell(TAMPER, "out/result"), inputs);
        ActionResult tampered = remote.execute(tamper).result();
        assertEquals(0, tampered.getExitCode(), remote.describe(tampered));

        for (String content : new String[] {"original top\n", "original input\n", "original generated\n"}) {
            Digest blob = RemoteFixture.digest(utf8(content));
            assertEquals(content, remote.read(blob).toStringUtf8(), "the stored blob changed");
            Path file = cache.resolve("cas").resolve(blob.getHash().substring(0, 2))
                    .resolve(blob.getHash() + "-" + blob.getSizeBytes());
            assertEquals(content, Files.readString(file), "the store's file " + file + " changed");
            assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        }
        Digest read = remote.uploadAction(shell("cat top src/lib/input out/generated > out/seen", "out/seen"), inputs);
        ActionResult next = remote.execute(read).result();
        assertEquals(0, next.getExitCode(), remote.describe(next));
        assertEquals("original top\noriginal input\noriginal generated\n",
                output(next, "out/seen"), "the next action saw changed inputs");
    }

    /** A read-only input subtree refuses the change itself: the action sees EROFS, not its own copy. */
    @Test
    void inputsOutsideTheActionsWritableDirectoriesAreReadOnly() throws Exception {
        InputTree inputs = new InputTree().file("src/lib/input", "original input\n");
        Digest action = remote.uploadAction(shell(
                "chmod u+w src/lib/input 2>out/err || echo refused > out/result", "out/result", "out/err"), inputs);
        ActionResult result = remote.execute(action).result();
        assertEquals(0, result.getExitCode(), remote.describe(result));
        assertEquals("refused\n", output(result, "out/result"), remote.describe(result));
        String err = output(result, "out/err");
        assertTrue(err.contains("Read-only file system"), err);
    }

    private String output(ActionResult result, String path) {
        return remote.text(result.getOutputFilesList().stream().filter(f -> f.getPath().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError("no output " + path + " in " + result)).getDigest());
    }
}
