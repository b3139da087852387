package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.assertStatus;
import static dev.paddock.remote.RemoteFixture.shell;
import static dev.paddock.remote.RemoteFixture.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import io.grpc.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client that may talk to the server must not be able to hand other builds its own outputs as
 * cache hits: UpdateActionResult is refused unless the server takes client results, and never
 * replaces a result of the server's own execution.
 */
@Timeout(120)
class CachePoisoningTest extends ServerTest {

    /** A result naming a forged output, as an attacker would upload it. */
    private ActionResult forged() {
        Digest evil = remote.put(utf8("#!/bin/sh\necho owned\n"));
        return ActionResult.newBuilder().setExitCode(0)
                .addOutputFiles(OutputFile.newBuilder().setPath("out").setDigest(evil).setIsExecutable(true)).build();
    }

    private void upload(Digest action, ActionResult result) {
        remote.actionCache().updateActionResult(UpdateActionResultRequest.newBuilder()
                .setActionDigest(action).setActionResult(result).build());
    }

    @Test
    void byDefaultNoClientResultIsTaken() throws Exception {
        remote = RemoteFixture.start(cache);
        Digest action = remote.uploadAction(shell("printf genuine > out", "out"), new InputTree());
        assertStatus(Status.Code.PERMISSION_DENIED, () -> upload(action, forged()), "--allow-client-ac-writes");
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action));
        // The victim's build runs the action for real.
        ActionResult result = remote.execute(action).result();
        assertEquals("genuine", remote.read(result.getOutputFiles(0).getDigest()).toStringUtf8());
    }

    @Test
    void aClientCannotReplaceTheServersOwnResult() throws Exception {
        remote = RemoteFixture.startTakingClientResults(cache);
        Digest action = remote.uploadAction(shell("printf genuine > out", "out"), new InputTree());
        ActionResult executed = remote.execute(action).result();
        assertStatus(Status.Code.PERMISSION_DENIED, () -> upload(action, forged()), "ran action");
        assertEquals(executed, remote.getActionResult(action));
    }

    @Test
    void theServersOwnResultIsServedBeforeAClients() throws Exception {
        remote = RemoteFixture.startTakingClientResults(cache);
        Digest action = remote.uploadAction(shell("printf genuine > out", "out"), new InputTree());
        upload(action, forged()); // a trusted client's upload, taken
        ActionResult executed = remote.execute(ExecuteRequest.newBuilder().setActionDigest(action)
                .setSkipCacheLookup(true).build()).result();
        assertEquals("genuine", remote.read(executed.getOutputFiles(0).getDigest()).toStringUtf8());
        assertEquals(executed, remote.getActionResult(action));
    }
}
