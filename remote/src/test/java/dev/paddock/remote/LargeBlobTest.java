package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.readName;
import static dev.paddock.remote.RemoteFixture.uploadName;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A 64 MiB blob up and down through ByteStream, never whole in memory on either side: the test
 * makes its chunks from a seeded Random as it sends them and hashes what it reads as it arrives.
 */
@Timeout(300)
class LargeBlobTest extends ServerTest {
    private static final long SIZE = 64L << 20;
    private static final long SEED = 64;

    /** The blob's chunks, the same every time for the same seed. */
    private static final class Chunks {
        private final Random random = new Random(SEED);
        private final byte[] buffer = new byte[RemoteFixture.CHUNK];
        private long made;

        boolean hasNext() {
            return made < SIZE;
        }

        byte[] next() {
            random.nextBytes(buffer);
            made += buffer.length;
            return buffer;
        }
    }

    private static Digest digestOfBlob() {
        MessageDigest md = RemoteFixture.sha256();
        Chunks chunks = new Chunks();
        while (chunks.hasNext()) md.update(chunks.next());
        return RemoteFixture.digest(md, SIZE);
    }

    @Test
    void sixtyFourMebibytesUpAndDownIntact() throws Exception {
        remote = RemoteFixture.start(cache);
        Digest d = digestOfBlob();
        String name = uploadName(d);

        RemoteFixture.WriteCall call = remote.openWrite();
        Chunks chunks = new Chunks();
        long offset = 0;
        while (chunks.hasNext()) {
            ByteString data = ByteString.copyFrom(chunks.next());
            WriteRequest.Builder r = WriteRequest.newBuilder().setWriteOffset(offset).setData(data);
            if (offset == 0) r.setResourceName(name);
            offset += data.size();
            r.setFinishWrite(offset == SIZE);
            assertTrue(call.send(r.build()), "the server ended the upload early at " + offset);
        }
        call.halfClose();
        assertEquals(SIZE, call.await().getCommittedSize());
        assertEquals(List.of(), remote.missing(d));

        MessageDigest md = RemoteFixture.sha256();
        long read = 0;
        Iterator<ReadResponse> it = remote.byteStream().read(ReadRequest.newBuilder().setResourceName(readName(d)).build());
        while (it.hasNext()) {
            ByteString data = it.next().getData();
            data.asReadOnlyByteBufferList().forEach(md::update);
            read += data.size();
        }
        assertEquals(SIZE, read);
        assertEquals(d, RemoteFixture.digest(md, read));

        // and a range from the middle, streamed the same way
        MessageDigest mid = RemoteFixture.sha256();
        long offsetInBlob = 10L << 20, length = 3L << 20;
        Chunks again = new Chunks();
        for (long at = 0; at < offsetInBlob + length; at += RemoteFixture.CHUNK) {
            byte[] b = again.next();
            if (at >= offsetInBlob) mid.update(b);
        }
        Digest expected = RemoteFixture.digest(mid, length);
        MessageDigest got = RemoteFixture.sha256();
        long n = 0;
        it = remote.byteStream().read(ReadRequest.newBuilder().setResourceName(readName(d))
                .setReadOffset(offsetInBlob).setReadLimit(length).build());
        while (it.hasNext()) {
            ByteString data = it.next().getData();
            data.asReadOnlyByteBufferList().forEach(got::update);
            n += data.size();
        }
        assertEquals(expected, RemoteFixture.digest(got, n));
    }
}
