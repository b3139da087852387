package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.shell;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecuteResponse;
import com.google.rpc.Code;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Small Directory messages that would lay out a huge or absurdly deep tree are refused before any of it is made. */
@Timeout(120)
class InputExpansionTest extends ServerTest {
    @BeforeEach
    void start() throws Exception {
        remote = RemoteFixture.start(cache);
    }

    private ExecuteResponse runWithRoot(Digest root) {
        Digest action = remote.uploadAction(shell("true"), new InputTree(), a -> a.setInputRootDigest(root));
        return remote.execute(action).response();
    }

    private void assertNothingLaidOut() throws Exception {
        try (Stream<Path> left = Files.list(cache.resolve("work"))) {
            assertEquals(0, left.count(), "an input root was left in the work directory");
        }
    }

    @Test
    void sharedSubtreesThatExpandPastTheLimitAreRefused() throws Exception {
        // Each level holds the one below twice: 2^30 directories from 31 small messages.
        Digest level = remote.put(Directory.getDefaultInstance());
        for (int i = 0; i < 30; i++) {
            level = remote.put(Directory.newBuilder()
                    .addDirectories(DirectoryNode.newBuilder().setName("a").setDigest(level))
                    .addDirectories(DirectoryNode.newBuilder().setName("b").setDigest(level)).build());
        }
        ExecuteResponse response = runWithRoot(level);
        assertEquals(Code.INVALID_ARGUMENT_VALUE, response.getStatus().getCode(), response.toString());
        assertTrue(response.getStatus().getMessage().contains("more than " + ActionRunner.MAX_INPUT_ENTRIES),
                response.getStatus().getMessage());
        assertNothingLaidOut();
    }

    @Test
    void directoriesNestedTooDeepAreRefused() throws Exception {
        Digest level = remote.put(Directory.getDefaultInstance());
        for (int i = 0; i < ActionRunner.MAX_INPUT_DEPTH + 1; i++) {
            level = remote.put(Directory.newBuilder()
                    .addDirectories(DirectoryNode.newBuilder().setName("d").setDigest(level)).build());
        }
        ExecuteResponse response = runWithRoot(level);
        assertEquals(Code.INVALID_ARGUMENT_VALUE, response.getStatus().getCode(), response.toString());
        assertTrue(response.getStatus().getMessage().contains("deeper than " + ActionRunner.MAX_INPUT_DEPTH),
                response.getStatus().getMessage());
        assertNothingLaidOut();
    }

    @Test
    void aTreeWithinTheLimitsRuns() {
        Digest level = remote.put(Directory.getDefaultInstance());
        for (int i = 0; i < 10; i++) {
            level = remote.put(Directory.newBuilder()
                    .addDirectories(DirectoryNode.newBuilder().setName("a").setDigest(level))
                    .addDirectories(DirectoryNode.newBuilder().setName("b").setDigest(level)).build());
        }
        ExecuteResponse response = runWithRoot(level);
        assertEquals(Code.OK_VALUE, response.getStatus().getCode(), response.toString());
        assertEquals(0, response.getResult().getExitCode());
    }
}
