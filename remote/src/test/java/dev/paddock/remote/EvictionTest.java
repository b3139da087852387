package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.EMPTY;
import static dev.paddock.remote.RemoteFixture.assertStatus;
import static dev.paddock.remote.RemoteFixture.digest;
import static dev.paddock.remote.RemoteFixture.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A small store evicts its least recently used blobs, never the empty blob. */
@Timeout(120)
class EvictionTest extends ServerTest {
    private static final long LIMIT = 100 * 1024;
    private static final int BLOB = 30 * 1024;

    private long bytesOnDisk() throws Exception {
        try (Stream<Path> files = Files.walk(cache.resolve("cas"))) {
            long total = 0;
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) total += Files.size(p);
            return total;
        }
    }

    @Test
    void leastRecentlyUsedBlobsAreEvictedRecentlyReadOnesKept() throws Exception {
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).maxCacheBytes(LIMIT).allowClientActionCacheWrites(true));
        List<ByteString> data = new ArrayList<>();
        List<Digest> d = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            data.add(random(100 + i, BLOB));
            d.add(digest(data.get(i)));
        }
        // a result that refers to blob 1, which is going to be evicted
        Digest action = digest(Action.newBuilder().setCommandDigest(d.get(1)).setInputRootDigest(EMPTY).build());

        remote.put(data.get(0));
        remote.put(data.get(1));
        remote.actionCache().updateActionResult(UpdateActionResultRequest.newBuilder().setActionDigest(action)
                .setActionResult(ActionResult.newBuilder().addOutputFiles(OutputFile.newBuilder().setPath("f").setDigest(d.get(1))))
                .build());
        remote.put(data.get(2)); // 90 KiB: all fit
        for (int i = 3; i < 8; i++) {
            assertEquals(data.get(0), remote.read(d.get(0)), "blob 0 is read before each upload, so it stays");
            remote.put(data.get(i)); // 120 KiB: the least recently used one goes
            assertTrue(bytesOnDisk() <= LIMIT, "the files under cas/ hold " + bytesOnDisk() + " bytes, over the limit");
        }

        List<Digest> all = new ArrayList<>(d);
        all.add(EMPTY);
        assertEquals(d.subList(1, 6), remote.missing(all.toArray(Digest[]::new)),
                "blobs 1 to 5 were least recently used when each later one arrived");
        assertEquals(data.get(0), remote.batchRead(d.get(0)));
        assertEquals(data.get(6), remote.read(d.get(6)));
        assertEquals(data.get(7), remote.read(d.get(7)));
        assertEquals(ByteString.EMPTY, remote.read(EMPTY), "the empty blob, the oldest of all, is never evicted");
        assertStatus(Status.Code.NOT_FOUND, () -> remote.read(d.get(1)));
        // the cached result names an evicted blob: a miss
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action));

        // an evicted blob can be uploaded again
        remote.put(data.get(1));
        assertEquals(data.get(1), remote.read(d.get(1)));
    }

    @Test
    void evictionKeepsTheLimitAcrossARestart() throws Exception {
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).maxCacheBytes(LIMIT).allowClientActionCacheWrites(true));
        List<Digest> d = new ArrayList<>();
        for (int i = 0; i < 3; i++) d.add(remote.put(random(200 + i, BLOB)));
        remote.close();

        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).maxCacheBytes(LIMIT).allowClientActionCacheWrites(true));
        assertEquals(List.of(), remote.missing(d.toArray(Digest[]::new)), "a restart evicts nothing under the limit");
        ByteString more = random(300, BLOB);
        remote.put(more);
        assertTrue(bytesOnDisk() <= LIMIT, bytesOnDisk() + " bytes on disk");
        assertEquals(List.of(), remote.missing(digest(more), EMPTY));
        assertEquals(1, remote.missing(d.toArray(Digest[]::new)).size(), "one of the older blobs made room");
    }
}
