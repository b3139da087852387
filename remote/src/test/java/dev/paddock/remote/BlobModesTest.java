package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.digest;
import static dev.paddock.remote.RemoteFixture.random;
import static dev.paddock.remote.RemoteFixture.shell;
import static dev.paddock.remote.RemoteFixture.uploadName;
import static dev.paddock.remote.RemoteFixture.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.OutputFile;
import com.google.protobuf.ByteString;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Blob files are the serving user's only: uploaded blobs, executable copies and the outputs of
 * actions have no group or other permission bits, and actions still read and run their inputs.
 */
@Timeout(120)
class BlobModesTest extends ServerTest {
    @BeforeEach
    void start() throws Exception {
        remote = RemoteFixture.start(cache);
    }

    /** The mode of every blob file under top (cas or cas-exec), by file name. */
    private Map<String, String> modes(String top) throws Exception {
        Map<String, String> modes = new TreeMap<>();
        try (Stream<Path> files = Files.walk(cache.resolve(top))) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator)
                modes.put(p.getFileName().toString(), PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
        }
        return modes;
    }

    private static String fileName(Digest d) {
        return d.getHash() + "-" + d.getSizeBytes();
    }

    private void assertOwnerOnly(String top) throws Exception {
        Map<String, String> modes = modes(top);
        assertFalse(modes.isEmpty(), top + "/ holds no blob");
        for (Map.Entry<String, String> m : modes.entrySet())
            assertTrue(m.getValue().endsWith("------"), top + "/" + m.getKey() + " has mode " + m.getValue());
    }

    @Test
    void uploadedBlobsAreTheServingUsersOnly() throws Exception {
        ByteString streamed = random(60, 200_000);
        remote.write(uploadName(digest(streamed)), streamed, 0, true);
        Digest batched = remote.put(utf8("a small blob"));

        Map<String, String> modes = modes("cas");
        assertEquals("r--------", modes.get(fileName(digest(streamed))));
        assertEquals("r--------", modes.get(fileName(batched)));
        assertOwnerOnly("cas");
    }

    @Test
    void inputCopiesAndOutputsAreTheServingUsersOnlyAndActionsStillUseThem() throws Exception {
        String tool = "#!/bin/sh\necho tool-ran\n";
        Digest action = remote.uploadAction(
                shell("./tool && cat data && printf out > f && printf '#!/bin/sh\\n' > x && chmod +x x", "f", "x"),
                new InputTree().executable("tool", tool).file("data", "data-read\n"));
        ActionResult result = remote.execute(action).result();
        assertEquals(0, result.getExitCode(), () -> remote.describe(result));
        assertEquals("tool-ran\ndata-read\n", remote.text(result.getStdoutDigest()));
        assertEquals(List.of(false, true), result.getOutputFilesList().stream().map(OutputFile::getIsExecutable).toList(),
                "whether an output is executable is read before it is stored");

        assertEquals("r-x------", modes("cas-exec").get(fileName(digest(utf8(tool)))));
        Map<String, String> stored = modes("cas");
        for (OutputFile f : result.getOutputFilesList())
            assertEquals("r--------", stored.get(fileName(f.getDigest())), "output " + f.getPath());
        assertOwnerOnly("cas");
        assertOwnerOnly("cas-exec");
    }
}
