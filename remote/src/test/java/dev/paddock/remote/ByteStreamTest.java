package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.WRITE;
import static dev.paddock.remote.RemoteFixture.assertStatus;
import static dev.paddock.remote.RemoteFixture.digest;
import static dev.paddock.remote.RemoteFixture.format;
import static dev.paddock.remote.RemoteFixture.random;
import static dev.paddock.remote.RemoteFixture.readName;
import static dev.paddock.remote.RemoteFixture.uploadName;
import static dev.paddock.remote.RemoteFixture.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** google.bytestream: Write (chunked, resumable), Read (ranges) and QueryWriteStatus. */
@Timeout(120)
class ByteStreamTest extends ServerTest {
    private static final int FIVE_MIB = 5 << 20;

    @BeforeEach
    void start() throws Exception {
        remote = RemoteFixture.start(cache);
    }

    @Test
    void uploadsInChunksThenReadsWholeAndInRanges() throws Exception {
        ByteString data = random(42, FIVE_MIB + 123);
        Digest d = digest(data);
        String name = uploadName(d);

        assertEquals(d.getSizeBytes(), remote.write(name, data, 0, true).getCommittedSize());

        assertEquals(List.of(), remote.missing(d));
        QueryWriteStatusResponse status = remote.queryWriteStatus(name);
        assertTrue(status.getComplete());
        assertEquals(d.getSizeBytes(), status.getCommittedSize());

        assertEquals(data, remote.read(d));
        assertEquals(data.substring(1000, 1000 + 70_000), remote.read(readName(d), 1000, 70_000));
        assertEquals(data.substring(FIVE_MIB), remote.read(readName(d), FIVE_MIB, 0), "read_limit 0: to the end");
        assertEquals(data.substring(FIVE_MIB), remote.read(readName(d), FIVE_MIB, 1 << 20), "a limit past the end stops at the end");
        assertEquals(ByteString.EMPTY, remote.read(readName(d), d.getSizeBytes(), 0), "read_offset == size: nothing");
    }

    @Test
    void readsAreChunked() throws Exception {
        ByteString data = random(7, 300_000);
        Digest d = remote.put(data);
        Iterator<ReadResponse> it = remote.byteStream().read(ReadRequest.newBuilder().setResourceName(readName(d)).build());
        int messages = 0;
        ByteString.Output all = ByteString.newOutput();
        while (it.hasNext()) {
            ByteString chunk = it.next().getData();
            assertTrue(chunk.size() <= 64 * 1024, "a chunk of " + chunk.size() + " bytes");
            chunk.writeTo(all);
            messages++;
        }
        assertTrue(messages >= 5, messages + " messages for 300,000 bytes");
        assertEquals(data, all.toByteString());
    }

    @Test
    void aReadWithAHugeLimitFromAnOffsetReturnsTheRest() {
        // read_offset + read_limit overflows a long; the limit is still only an upper bound
        ByteString data = random(8, 10_000);
        Digest d = remote.put(data);
        assertEquals(data.substring(10), remote.read(readName(d), 10, Long.MAX_VALUE));
    }

    @Test
    void aCancelledUploadResumesFromWhatTheServerCommitted() throws Exception {
        ByteString data = random(43, FIVE_MIB);
        Digest d = digest(data);
        String name = uploadName(d);
        int half = data.size() / 2; // a multiple of 64 KiB: 40 chunks
        int chunks = half / RemoteFixture.CHUNK;

        RemoteFixture.WriteCall first = remote.openWrite();
        first.sendChunks(name, data.substring(0, half), 0, false);
        remote.calls.awaitMessages(WRITE, chunks); // every chunk has reached the server's file
        int closedBefore = remote.calls.closed(WRITE);
        first.cancel();
        remote.calls.awaitClosed(WRITE, closedBefore + 1); // and the server has seen the client go away

        QueryWriteStatusResponse status = remote.queryWriteStatus(name);
        assertEquals(half, status.getCommittedSize());
        assertFalse(status.getComplete());
        assertEquals(List.of(d), remote.missing(d));

        assertEquals(d.getSizeBytes(), remote.write(name, data.substring(half), half, true).getCommittedSize());
        assertEquals(List.of(), remote.missing(d));
        assertEquals(data, remote.read(d));
        assertTrue(remote.queryWriteStatus(name).getComplete());
    }

    @Test
    void anUploadClosedWithoutFinishWriteReportsWhatItCommittedAndResumes() throws Exception {
        ByteString data = random(44, 1_000_000);
        Digest d = digest(data);
        String name = "main/" + uploadName(d);

        assertEquals(400_000, remote.write(name, data.substring(0, 400_000), 0, false).getCommittedSize());
        assertEquals(400_000, remote.queryWriteStatus(name).getCommittedSize());
        assertEquals(700_000, remote.write(name, data.substring(400_000, 700_000), 400_000, false).getCommittedSize());
        assertEquals(700_000, remote.queryWriteStatus(name).getCommittedSize());
        assertEquals(List.of(d), remote.missing(d));

        assertEquals(1_000_000, remote.write(name, data.substring(700_000), 700_000, true).getCommittedSize());
        assertEquals(data, remote.read(d));
    }

    @Test
    void aWriteAtTheWrongOffsetIsRefusedAndChangesNothing() throws Exception {
        ByteString data = random(45, 300_000);
        Digest d = digest(data);
        String name = uploadName(d);
        remote.write(name, data.substring(0, 100_000), 0, false);

        for (long offset : List.of(0L, 99_999L, 100_001L, 200_000L)) {
            assertStatus(Status.Code.INVALID_ARGUMENT,
                    () -> remote.write(name, data.substring((int) offset, (int) offset + 10), offset, false), "write_offset");
            assertEquals(100_000, remote.queryWriteStatus(name).getCommittedSize(), "after a write at " + offset);
        }
        // a fresh upload id starts at 0, whatever other uploads of the same blob hold
        assertEquals(0, remote.queryWriteStatus(uploadName(d)).getCommittedSize());

        assertEquals(300_000, remote.write(name, data.substring(100_000), 100_000, true).getCommittedSize());
        assertEquals(data, remote.read(d));
    }

    @Test
    void aDigestMismatchAtFinishIsRefusedAndStoresNothing() throws Exception {
        ByteString claimed = random(46, 200_000);
        ByteString sent = random(47, 200_000);
        Digest d = digest(claimed);
        String name = uploadName(d);

        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.write(name, sent, 0, true), "does not match");

        assertEquals(List.of(d, digest(sent)), remote.missing(d, digest(sent)));
        QueryWriteStatusResponse status = remote.queryWriteStatus(name);
        assertFalse(status.getComplete());
        assertEquals(0, status.getCommittedSize(), "the bad data is not kept for a resumed upload");
        // the right data under the same upload id then goes through
        assertEquals(200_000, remote.write(name, claimed, 0, true).getCommittedSize());
        assertEquals(claimed, remote.read(d));
    }

    @Test
    void anUploadLongerOrShorterThanItsDigestIsRefused() throws Exception {
        ByteString data = random(48, 1000);
        Digest d = digest(data);
        ByteString longer = data.concat(utf8("extra"));
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.write(uploadName(d), longer, 0, true), "longer");
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.write(uploadName(d), data.substring(0, 999), 0, true),
                "finish_write");
        assertEquals(List.of(d), remote.missing(d));
    }

    @Test
    void malformedResourceNamesAreRefused() throws Exception {
        Digest d = digest(utf8("some data"));
        String h = d.getHash();
        String u = UUID.randomUUID().toString();
        List<String> badUploads = List.of(
                "uploads/" + u + "/blobs/" + h,                          // missing size
                "uploads/" + u + "/blobs/" + h + "/nine",                // size not a number
                "uploads/" + u + "/blobs/" + h.toUpperCase() + "/9",     // bad hash
                "uploads/" + u + "/blobs/" + h.substring(2) + "/9",      // short hash
                "uploads/" + u + "/blobs/" + h + "/-9",                  // negative size
                "uploads/" + u + "/compressed-blobs/zstd/" + h + "/9",   // compressed
                "uploads//blobs/" + h + "/9",                            // empty upload id
                "uploads/a.b/blobs/" + h + "/9",                         // upload id with a dot
                "blobs/" + h + "/9",                                     // a read name
                "");
        for (String name : badUploads) {
            assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.write(name, utf8("some data"), 0, true));
            assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.queryWriteStatus(name));
        }
        List<String> badReads = List.of(
                "blobs/" + h,
                "blobs/" + h + "/nine",
                "blobs/" + h.toUpperCase() + "/9",
                "blobs/xyz/9",
                "compressed-blobs/zstd/" + h + "/9",
                "main/compressed-blobs/zstd/" + h + "/9",
                "");
        for (String name : badReads)
            assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.read(name, 0, 0));
        assertEquals(List.of(d), remote.missing(d));
    }

    @Test
    void uploadingAStoredBlobAnswersAtOnceWithItsSize() throws Exception {
        ByteString data = random(49, 500_000);
        Digest d = remote.put(data);

        RemoteFixture.WriteCall call = remote.openWrite();
        assertTrue(call.send(WriteRequest.newBuilder().setResourceName(uploadName(d)).setData(data.substring(0, 1000)).build()));
        // no finish_write, no half-close: the server already knows the blob
        assertEquals(d.getSizeBytes(), call.await().getCommittedSize());

        assertEquals(d.getSizeBytes(), remote.write(uploadName(d), data, 0, true).getCommittedSize());
        assertEquals(d.getSizeBytes(), remote.queryWriteStatus(uploadName(d)).getCommittedSize());
        assertTrue(remote.queryWriteStatus(uploadName(d)).getComplete());
        // the empty blob is always stored
        assertEquals(0, remote.write(uploadName(RemoteFixture.EMPTY), ByteString.EMPTY, 0, true).getCommittedSize());
    }

    @Test
    void aSecondConcurrentWriterOfTheSameUploadIsAborted() throws Exception {
        ByteString data = random(50, 300_000);
        Digest d = digest(data);
        String name = uploadName(d);
        RemoteFixture.WriteCall first = remote.openWrite();
        first.send(WriteRequest.newBuilder().setResourceName(name).setData(data.substring(0, 1000)).build());
        remote.calls.awaitMessages(WRITE, 1);

        assertStatus(Status.Code.ABORTED, () -> remote.write(name, data.substring(1000), 1000, true));
        // another upload id for the same blob is independent
        assertEquals(d.getSizeBytes(), remote.write(uploadName(d), data, 0, true).getCommittedSize());

        // the first call ends as any call without finish_write: with what it committed (or the whole
        // blob, which is stored by now)
        first.halfClose();
        long committed = first.await().getCommittedSize();
        assertTrue(committed == 1000 || committed == d.getSizeBytes(), "committed_size " + committed);
        assertEquals(data, remote.read(d));
    }

    @Test
    void readErrors() {
        ByteString data = random(51, 1000);
        Digest d = remote.put(data);
        Digest absent = digest(utf8("absent"));

        assertStatus(Status.Code.NOT_FOUND, () -> remote.read(readName(absent), 0, 0), format(absent));
        assertStatus(Status.Code.OUT_OF_RANGE, () -> remote.read(readName(d), 1001, 0), "read_offset");
        assertStatus(Status.Code.OUT_OF_RANGE, () -> remote.read(readName(d), -1, 0), "read_offset");
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.read(readName(d), 0, -1), "read_limit");
    }

    @Test
    void resourceNamesWithAnInstanceNameWork() throws Exception {
        ByteString data = random(52, 150_000);
        Digest d = digest(data);
        String upload = "main/" + uploadName(d);

        assertEquals(100_000, remote.write(upload, data.substring(0, 100_000), 0, false).getCommittedSize());
        assertEquals(100_000, remote.queryWriteStatus(upload).getCommittedSize());
        assertEquals(150_000, remote.write(upload, data.substring(100_000), 100_000, true).getCommittedSize());

        assertEquals(data, remote.read("main/blobs/" + format(d), 0, 0));
        assertEquals(data, remote.read("deep/instance/name/blobs/" + format(d), 0, 0));
        assertEquals(data.substring(5, 15), remote.read("main/blobs/" + format(d) + "/some/file.txt", 5, 10),
                "anything after the size is ignored");
        assertTrue(remote.queryWriteStatus(upload).getComplete());
    }
}
