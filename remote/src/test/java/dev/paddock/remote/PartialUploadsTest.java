package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.CHUNK;
import static dev.paddock.remote.RemoteFixture.WRITE;
import static dev.paddock.remote.RemoteFixture.assertStatus;
import static dev.paddock.remote.RemoteFixture.digest;
import static dev.paddock.remote.RemoteFixture.random;
import static dev.paddock.remote.RemoteFixture.uploadName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Unfinished ByteStream uploads cannot fill the disk: together they hold at most the
 * --max-cache-size (idle ones make room, oldest first; uploads being written never do), a blob
 * larger than that is refused at once, and idle ones past their age go while the server runs.
 */
@Timeout(120)
class PartialUploadsTest extends ServerTest {
    private static final long LIMIT = 1 << 20;
    private static final int KIB = 1024;

    private void startWithLimit() throws Exception {
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).maxCacheBytes(LIMIT));
    }

    /** What the files under uploads/ really hold. */
    private long bytesInUploads() throws Exception {
        try (Stream<Path> files = Files.list(cache.resolve("uploads"))) {
            long total = 0;
            for (Path p : (Iterable<Path>) files::iterator) total += Files.size(p);
            return total;
        }
    }

    private void assertWithinLimit() throws Exception {
        long held = bytesInUploads();
        assertTrue(held <= LIMIT, "the files under uploads/ hold " + held + " bytes, over the limit of " + LIMIT);
    }

    private Path partialFile(String resourceName) throws BadRequest {
        return cache.resolve("uploads").resolve(ResourceName.forWrite(resourceName).uploadKey());
    }

    /** Makes the upload's last write look as old as age. */
    private void lastWritten(String resourceName, Duration age) throws Exception {
        Files.setLastModifiedTime(partialFile(resourceName), FileTime.from(Instant.now().minus(age)));
    }

    private long committed(String resourceName) {
        return remote.queryWriteStatus(resourceName).getCommittedSize();
    }

    @Test
    void idleUploadsMakeRoomOldestFirstAndUploadsStayWithinTheLimit() throws Exception {
        startWithLimit();
        List<ByteString> data = List.of(random(1, 600 * KIB), random(2, 600 * KIB), random(3, 600 * KIB),
                random(4, 600 * KIB));
        List<String> names = data.stream().map(d -> uploadName(digest(d))).toList();
        int part = 300 * KIB;
        for (int i = 0; i < 3; i++) {
            assertEquals(part, remote.write(names.get(i), data.get(i).substring(0, part), 0, false).getCommittedSize());
            assertWithinLimit();
        }
        lastWritten(names.get(0), Duration.ofHours(3));
        lastWritten(names.get(1), Duration.ofHours(2));
        lastWritten(names.get(2), Duration.ofHours(1));

        // 900 KiB held; 300 more go past 1 MiB: the upload written longest ago makes room
        assertEquals(part, remote.write(names.get(3), data.get(3).substring(0, part), 0, false).getCommittedSize());
        assertWithinLimit();
        assertEquals(List.of(0L, (long) part, (long) part, (long) part), names.stream().map(this::committed).toList());
        assertFalse(Files.exists(partialFile(names.get(0))));

        // its client starts it again from 0, and the next oldest make room for it
        assertEquals(data.get(0).size(), remote.write(names.get(0), data.get(0), 0, true).getCommittedSize());
        assertWithinLimit();
        assertEquals(data.get(0), remote.read(digest(data.get(0))));
        assertEquals(List.of(0L, 0L, (long) part), names.subList(1, 4).stream().map(this::committed).toList(),
                "uploads 1 and 2 were written before upload 3");
    }

    @Test
    void anUploadBeingWrittenIsNeverRemovedToMakeRoom() throws Exception {
        startWithLimit();
        ByteString big = random(10, 960 * KIB);
        String bigName = uploadName(digest(big));
        int sent = 704 * KIB; // 11 chunks
        RemoteFixture.WriteCall writing = remote.openWrite();
        writing.sendChunks(bigName, big.substring(0, sent), 0, false);
        remote.calls.awaitMessages(WRITE, sent / CHUNK); // all of them are in the server's file
        lastWritten(bigName, Duration.ofHours(5)); // the oldest upload, but its call is still open

        ByteString other = random(11, 600 * KIB);
        String otherName = uploadName(digest(other));
        // 704 + 320 KiB fit; the sixth chunk of this one does not, and the only other upload is in use
        assertStatus(Status.Code.RESOURCE_EXHAUSTED,
                () -> remote.write(otherName, other.substring(0, 400 * KIB), 0, false),
                "partial uploads", Long.toString(LIMIT), "--max-cache-size", "retry");
        assertWithinLimit();
        assertEquals(sent, committed(bigName));
        assertEquals(320 * KIB, committed(otherName), "the refused upload keeps what it wrote before, to resume");

        // the upload in use goes on, and the refused one, idle now, makes room for it
        writing.sendChunks(bigName, big.substring(sent), sent, true);
        writing.halfClose();
        assertEquals(big.size(), writing.await().getCommittedSize());
        assertWithinLimit();
        assertEquals(big, remote.read(digest(big)));
        assertEquals(0, committed(otherName));
    }

    @Test
    void aWriteThatCannotFitRemovesNoIdleUpload() throws Exception {
        startWithLimit();
        ByteString idle = random(12, 200 * KIB);
        String idleName = uploadName(digest(idle));
        remote.write(idleName, idle.substring(0, 100 * KIB), 0, false); // two chunks
        ByteString big = random(13, 960 * KIB);
        String bigName = uploadName(digest(big));
        int sent = 704 * KIB;
        RemoteFixture.WriteCall writing = remote.openWrite();
        writing.sendChunks(bigName, big.substring(0, sent), 0, false);
        remote.calls.awaitMessages(WRITE, 2 + sent / CHUNK);

        // 804 KiB held, and 400 more need 180 freed: the idle 100 KiB would not do, so they stay
        ByteString other = random(14, 600 * KIB);
        String otherName = uploadName(digest(other));
        RemoteFixture.WriteCall refused = remote.openWrite();
        refused.send(WriteRequest.newBuilder().setResourceName(otherName).setData(other.substring(0, 400 * KIB)).build());
        assertStatus(Status.Code.RESOURCE_EXHAUSTED, refused::await, "hold " + 804 * KIB + " bytes", "--max-cache-size");
        assertEquals(100 * KIB, committed(idleName));
        assertEquals(0, committed(otherName));
        assertWithinLimit();

        writing.halfClose();
        assertEquals(sent, writing.await().getCommittedSize());
    }

    @Test
    void anIdleUploadPastTheAbandonedAgeIsRemovedWhenTheNextUploadStarts() throws Exception {
        remote = RemoteFixture.start(RemoteServer.newBuilder().cacheDir(cache).uploadSweepInterval(Duration.ZERO));
        ByteString abandoned = random(30, 200 * KIB);
        ByteString recent = random(31, 200 * KIB);
        String abandonedName = uploadName(digest(abandoned));
        String recentName = uploadName(digest(recent));
        remote.write(abandonedName, abandoned.substring(0, 100 * KIB), 0, false);
        remote.write(recentName, recent.substring(0, 100 * KIB), 0, false);
        lastWritten(abandonedName, PartialUploads.ABANDONED_AGE.plusHours(1));
        lastWritten(recentName, PartialUploads.ABANDONED_AGE.minusHours(1));
        assertEquals(100 * KIB, committed(abandonedName), "nothing looks at ages between uploads");

        ByteString next = random(32, 1000);
        assertEquals(next.size(), remote.write(uploadName(digest(next)), next, 0, true).getCommittedSize());
        assertFalse(Files.exists(partialFile(abandonedName)));
        assertEquals(0, committed(abandonedName));
        assertEquals(100 * KIB, committed(recentName));
    }

    @Test
    void uploadsFromBeforeARestartCountAndTheAbandonedOnesGo() throws Exception {
        startWithLimit();
        List<ByteString> data = List.of(random(40, 600 * KIB), random(41, 600 * KIB), random(42, 600 * KIB));
        List<String> names = data.stream().map(d -> uploadName(digest(d))).toList();
        int part = 450 * KIB;
        remote.write(names.get(0), data.get(0).substring(0, part), 0, false);
        remote.write(names.get(1), data.get(1).substring(0, part), 0, false);
        remote.close();
        lastWritten(names.get(0), PartialUploads.ABANDONED_AGE.plusHours(1));
        lastWritten(names.get(1), Duration.ofHours(1));

        startWithLimit();
        assertEquals(List.of(0L, (long) part), names.subList(0, 2).stream().map(this::committed).toList(),
                "the abandoned upload is gone at start, the other one resumes");
        // 450 KiB from before the restart plus 600 KiB pass 1 MiB: the idle upload makes room
        assertEquals(data.get(2).size(), remote.write(names.get(2), data.get(2), 0, true).getCommittedSize());
        assertWithinLimit();
        assertEquals(0, committed(names.get(1)));
    }

    @Test
    void aBlobLargerThanTheLimitIsRefusedAtTheFirstRequest() throws Exception {
        startWithLimit();
        ByteString data = random(20, (int) LIMIT + 1);
        assertStatus(Status.Code.RESOURCE_EXHAUSTED,
                () -> remote.write(uploadName(digest(data)), data.substring(0, CHUNK), 0, false),
                Long.toString(LIMIT + 1), Long.toString(LIMIT), "--max-cache-size");
        Digest claimed = Digest.newBuilder().setHash("ab".repeat(32)).setSizeBytes(1L << 40).build();
        assertStatus(Status.Code.RESOURCE_EXHAUSTED,
                () -> remote.write(uploadName(claimed), data.substring(0, 10), 0, false), "--max-cache-size");
        try (Stream<Path> files = Files.list(cache.resolve("uploads"))) {
            assertEquals(List.of(), files.toList(), "nothing is written for an upload that could never be stored");
        }
    }
}
