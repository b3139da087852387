package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.EMPTY;
import static dev.paddock.remote.RemoteFixture.assertStatus;
import static dev.paddock.remote.RemoteFixture.digest;
import static dev.paddock.remote.RemoteFixture.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.OutputSymlink;
import build.bazel.remote.execution.v2.Tree;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.rpc.Code;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** ActionCache: results clients store themselves, and misses for results whose blobs are gone. */
@Timeout(120)
class ActionCacheTest extends ServerTest {
    @BeforeEach
    void start() throws Exception {
        remote = RemoteFixture.startTakingClientResults(cache);
    }

    /** An action digest: the digest of some Action message (its blobs need not be stored). */
    private static Digest action(String name) {
        return digest(Action.newBuilder().setCommandDigest(digest(utf8(name))).setInputRootDigest(EMPTY).build());
    }

    private ActionResult update(Digest action, ActionResult result) {
        return remote.actionCache().updateActionResult(UpdateActionResultRequest.newBuilder()
                .setActionDigest(action).setActionResult(result).build());
    }

    @Test
    void updateThenGet() {
        Digest out = remote.put(utf8("output"));
        Digest stdout = remote.put(utf8("stdout text"));
        Directory sub = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("g").setDigest(remote.put(utf8("g")))).build();
        Digest tree = remote.put(Tree.newBuilder().setRoot(sub).build());
        ActionResult result = ActionResult.newBuilder().setExitCode(0)
                .addOutputFiles(OutputFile.newBuilder().setPath("out/f").setDigest(out).setIsExecutable(true))
                .addOutputDirectories(OutputDirectory.newBuilder().setPath("out/d").setTreeDigest(tree))
                .addOutputSymlinks(OutputSymlink.newBuilder().setPath("out/link").setTarget("f"))
                .setStdoutDigest(stdout).setStderrDigest(EMPTY).build();
        Digest action = action("update-then-get");

        assertEquals(result, update(action, result));
        assertEquals(result, remote.getActionResult(action));

        // a newer result replaces the old one
        ActionResult newer = result.toBuilder().setExitCode(1).build();
        update(action, newer);
        assertEquals(newer, remote.getActionResult(action));
    }

    @Test
    void anUnknownActionIsNotFound() {
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action("never stored")));
    }

    @Test
    void aResultWhoseOutputBlobIsMissingIsAMiss() {
        Digest absent = digest(utf8("never uploaded"));
        Digest present = remote.put(utf8("present"));

        Digest a1 = action("missing output file");
        update(a1, ActionResult.newBuilder().addOutputFiles(OutputFile.newBuilder().setPath("f").setDigest(absent)).build());
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(a1));

        Digest a2 = action("missing stdout");
        update(a2, ActionResult.newBuilder().addOutputFiles(OutputFile.newBuilder().setPath("f").setDigest(present))
                .setStdoutDigest(absent).build());
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(a2));

        Digest a3 = action("missing stderr");
        update(a3, ActionResult.newBuilder().setStderrDigest(absent).build());
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(a3));

        Digest a4 = action("missing tree");
        Digest absentTree = digest(Tree.newBuilder().setRoot(Directory.getDefaultInstance()).build());
        update(a4, ActionResult.newBuilder().addOutputDirectories(OutputDirectory.newBuilder().setPath("d")
                .setTreeDigest(absentTree)).build());
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(a4));

        Digest a5 = action("missing file inside a stored tree");
        Directory child = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("x").setDigest(absent)).build();
        Digest tree = remote.put(Tree.newBuilder().setRoot(Directory.getDefaultInstance()).addChildren(child).build());
        update(a5, ActionResult.newBuilder().addOutputDirectories(OutputDirectory.newBuilder().setPath("d")
                .setTreeDigest(tree)).build());
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(a5));

        // once the blob arrives, the result is served again
        remote.put(utf8("never uploaded"));
        assertEquals(absent, remote.getActionResult(a1).getOutputFiles(0).getDigest());
        assertEquals(tree, remote.getActionResult(a5).getOutputDirectories(0).getTreeDigest());
    }

    @Test
    void malformedRequestsAreRefused() {
        Digest bad = Digest.newBuilder().setHash("ABC").setSizeBytes(1).build();
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.getActionResult(bad), "action_digest");
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> update(bad, ActionResult.getDefaultInstance()), "action_digest");
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> update(action("bad output digest"), ActionResult.newBuilder()
                .addOutputFiles(OutputFile.newBuilder().setPath("f").setDigest(bad)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.actionCache().getActionResult(GetActionResultRequest.newBuilder()
                .setActionDigest(action("x")).setDigestFunction(DigestFunction.Value.MD5).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.actionCache().updateActionResult(UpdateActionResultRequest.newBuilder()
                .setActionDigest(action("x")).setDigestFunction(DigestFunction.Value.SHA1).build()));
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action("bad output digest")),
                "no result"); // the refused update stored nothing
    }

    @Test
    void aStoredTreeWithAMalformedFileDigestIsAMissNotAnError() {
        // UpdateActionResult checks the digests a result names directly, not those inside its trees
        Directory child = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("x")
                .setDigest(Digest.newBuilder().setHash("").setSizeBytes(1))).build();
        Digest tree = remote.put(Tree.newBuilder().setRoot(Directory.getDefaultInstance()).addChildren(child).build());
        Digest action = action("malformed tree");
        ActionResult result = ActionResult.newBuilder().addOutputDirectories(OutputDirectory.newBuilder().setPath("d")
                .setTreeDigest(tree)).build();
        try {
            update(action, result);
        } catch (StatusRuntimeException e) {
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
            return; // refusing it up front is fine too
        }
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action));
        // and Execute's cache check treats it as a miss as well: the action then runs (and fails: it is not stored)
        RemoteFixture.ExecuteRun run = remote.execute(action);
        assertEquals(Code.FAILED_PRECONDITION_VALUE, run.response().getStatus().getCode(), run.response().toString());
    }
}
