package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.EMPTY;
import static dev.paddock.remote.RemoteFixture.digest;
import static dev.paddock.remote.RemoteFixture.random;
import static dev.paddock.remote.RemoteFixture.uploadName;
import static dev.paddock.remote.RemoteFixture.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What a server stored is there for the next server on the same cache directory. */
@Timeout(180)
class RestartTest extends ServerTest {

    private void restart() throws Exception {
        remote.close();
        remote = RemoteFixture.startTakingClientResults(cache);
    }

    @Test
    void blobsAndActionResultsSurviveARestart() throws Exception {
        remote = RemoteFixture.startTakingClientResults(cache);
        ByteString small = utf8("a small blob");
        ByteString big = random(1, 3_000_000);
        Digest smallDigest = remote.put(small);
        Digest bigDigest = digest(big);
        assertEquals(bigDigest.getSizeBytes(), remote.write(uploadName(bigDigest), big, 0, true).getCommittedSize());
        Digest action = digest(Action.newBuilder().setCommandDigest(smallDigest).setInputRootDigest(EMPTY).build());
        ActionResult result = ActionResult.newBuilder().setExitCode(0)
                .addOutputFiles(OutputFile.newBuilder().setPath("out").setDigest(bigDigest))
                .setStdoutDigest(smallDigest).build();
        remote.actionCache().updateActionResult(UpdateActionResultRequest.newBuilder()
                .setActionDigest(action).setActionResult(result).build());

        restart();

        assertEquals(List.of(), remote.missing(smallDigest, bigDigest, EMPTY));
        assertEquals(small, remote.batchRead(smallDigest));
        assertEquals(big, remote.read(bigDigest));
        assertEquals(result, remote.getActionResult(action));
        assertTrue(remote.queryWriteStatus(uploadName(bigDigest)).getComplete());

        // and again, after a restart that changed nothing
        restart();
        assertEquals(big, remote.read(bigDigest));
        assertEquals(result, remote.getActionResult(action));
    }

    @Test
    void aPartialUploadSurvivesARestart() throws Exception {
        remote = RemoteFixture.startTakingClientResults(cache);
        ByteString data = random(2, 1_500_000);
        Digest d = digest(data);
        String name = uploadName(d);
        assertEquals(600_000, remote.write(name, data.substring(0, 600_000), 0, false).getCommittedSize());

        restart();

        QueryWriteStatusResponse status = remote.queryWriteStatus(name);
        assertEquals(600_000, status.getCommittedSize());
        assertFalse(status.getComplete());
        assertEquals(List.of(d), remote.missing(d));
        assertEquals(d.getSizeBytes(), remote.write(name, data.substring(600_000), 600_000, true).getCommittedSize());
        assertEquals(data, remote.read(d));
    }

    @Test
    void anExecutedActionIsACacheHitAfterARestart() throws Exception {
        remote = RemoteFixture.startTakingClientResults(cache);
        Digest action = remote.uploadAction(RemoteFixture.shell("mkdir -p out && cat in.txt in.txt > out/twice && echo done",
                "out/twice"), new InputTree().file("in.txt", "restart\n"));
        ExecuteResponse first = remote.execute(action).response();
        assertEquals(Code.OK_VALUE, first.getStatus().getCode(), first.getStatus().toString());
        assertEquals(0, first.getResult().getExitCode(), remote.describe(first.getResult()));
        assertFalse(first.getCachedResult());

        restart();

        ExecuteResponse again = remote.execute(action).response();
        assertTrue(again.getCachedResult());
        assertEquals(first.getResult(), again.getResult());
        assertEquals(utf8("restart\nrestart\n"), remote.read(again.getResult().getOutputFiles(0).getDigest()));
        assertEquals("done\n", remote.text(again.getResult().getStdoutDigest()));
    }

    @Test
    void aSecondServerOnTheSameCacheDirectoryIsRefusedWhileTheFirstRuns() throws Exception {
        remote = RemoteFixture.startTakingClientResults(cache);
        Digest d = remote.put(utf8("kept"));
        IOException refused = assertThrows(IOException.class,
                () -> RemoteServer.newBuilder().cacheDir(cache).build());
        assertTrue(refused.getMessage().contains(cache.toString()), refused.getMessage());
        // the refusal disturbed nothing
        assertEquals(utf8("kept"), remote.batchRead(d));

        restart(); // closing releases the directory
        assertEquals(utf8("kept"), remote.batchRead(d));
    }

    @Test
    void theStoreIsTheServingUsersOnly() throws Exception {
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwxr-xr-x"));
        remote = RemoteFixture.startTakingClientResults(cache);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)));
    }
}
