package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.shell;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trees deeper than PATH_MAX (4096 bytes), with directories their owner cannot read or write,
 * are removed all the same: after an action, and when the server starts on what a crash left.
 */
@Timeout(120)
class DeepTreeTest {
    /** 600 levels of 12-byte names: about 7800 bytes of path, made relative to each level. */
    static final String DEEP = "for i in $(seq 600); do mkdir d0123456789 && cd -P d0123456789 || exit 1; done;"
            + " touch f; cd -P .. && chmod 0 d0123456789 && cd -P .. && chmod 0 d0123456789";

    @TempDir
    Path dir;

    @Test
    void aTreeDeeperThanPathMaxIsRemoved() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Process p = new ProcessBuilder("sh", "-c", DEEP).directory(tree.toFile()).inheritIO().start();
        assertEquals(0, p.waitFor());
        FileTrees.deleteRecursively(tree);
        assertFalse(Files.exists(tree));
    }

    @Test
    void anActionsDeepTreeIsRemovedAndTheServerStartsAgain() throws Exception {
        Path cache = dir.resolve("cache");
        Path work = cache.resolve("work");
        try (RemoteFixture remote = RemoteFixture.start(cache)) {
            Digest action = remote.uploadAction(shell(DEEP + "; echo built"), new InputTree());
            ActionResult result = remote.execute(action).result();
            assertEquals(0, result.getExitCode(), () -> remote.describe(result));
            try (Stream<Path> left = Files.list(work)) {
                assertEquals(0, left.count(), "the action's input root was left in " + work);
            }
        }
        // What a crash would leave: a deep tree in the work directory, then a start.
        Path crashed = Files.createDirectories(work.resolve("left-by-a-crash"));
        Process p = new ProcessBuilder("sh", "-c", DEEP).directory(crashed.toFile()).inheritIO().start();
        assertEquals(0, p.waitFor());
        try (RemoteFixture remote = RemoteFixture.start(cache)) {
            assertTrue(Files.isDirectory(work));
            assertFalse(Files.exists(crashed), "the leftover tree is gone");
        }
    }
}
