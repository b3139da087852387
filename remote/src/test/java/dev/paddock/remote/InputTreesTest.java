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
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Input subtrees are laid out once per Directory digest and bound read-only into every action
 * that has them: the second action with the same subtree sees the very same inodes (those of
 * the store), concurrent actions that need a new tree share one, and trees nobody uses are
 * removed past the bound.
 */
@Timeout(120)
class InputTreesTest extends ServerTest {

    private void start(int treesKept) throws Exception {
        assumeTrue(!Files.readString(Path.of("/proc/sys/user/max_user_namespaces")).strip().equals("0"),
                "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).inputTreesKept(treesKept));
    }

    /** The inode of lib/data as the action sees it, and the inode the store's blob has. */
    private String inodeSeen(InputTree inputs, String stamp) {
        Digest action = remote.uploadAction(shell("stat -c %i lib/data > out/inode; echo " + stamp, "out/inode"), inputs);
        ActionResult r = remote.execute(action).result();
        assertEquals(0, r.getExitCode(), remote.describe(r));
        return remote.text(r.getOutputFiles(0).getDigest()).strip();
    }

    private long storeInode(String content) throws Exception {
        Digest d = RemoteFixture.digest(utf8(content));
        Path blob = cache.resolve("cas").resolve(d.getHash().substring(0, 2)).resolve(d.getHash() + "-" + d.getSizeBytes());
        return (long) Files.getAttribute(blob, "unix:ino");
    }

    private long trees() throws Exception {
        try (Stream<Path> s = Files.list(cache.resolve("trees"))) {
            return s.count();
        }
    }

    @Test
    void aSubtreeIsLaidOutOnceAndSharedByTheActionsThatHaveIt() throws Exception {
        start(InputTrees.DEFAULT_MAX_TREES);
        InputTree inputs = new InputTree().file("lib/data", "shared input\n");
        String first = inodeSeen(inputs, "one");
        String second = inodeSeen(inputs, "two");
        assertEquals(first, second, "the second action got its own copy");
        assertEquals(storeInode("shared input\n"), Long.parseLong(first), "the tree links the store's blob");
        assertEquals(1, trees());
    }

    @Test
    void concurrentActionsShareOneNewTree() throws Exception {
        start(InputTrees.DEFAULT_MAX_TREES);
        InputTree inputs = new InputTree().file("lib/data", "new for all\n");
        List<RemoteFixture.OperationStream<?>> runs = new ArrayList<>();
        for (int i = 0; i < 8; i++)
            runs.add(remote.startExecute(remote.uploadAction(shell("cat lib/data > out/seen; echo " + i, "out/seen"),
                    inputs)));
        for (RemoteFixture.OperationStream<?> run : runs) {
            ActionResult r = run.awaitEnd().result();
            assertEquals(0, r.getExitCode(), remote.describe(r));
            assertEquals("new for all\n", remote.text(r.getOutputFiles(0).getDigest()));
        }
        assertEquals(1, trees(), "one tree, however many actions laid it out at once");
    }

    @Test
    void treesNobodyUsesAreRemovedPastTheBound() throws Exception {
        start(2);
        for (int i = 0; i < 5; i++) {
            String content = "input " + i + "\n";
            String inode = inodeSeen(new InputTree().file("lib/data", content), "tree " + i);
            assertEquals(storeInode(content), Long.parseLong(inode));
            assertTrue(trees() <= 2, trees() + " trees kept");
        }
    }
}
