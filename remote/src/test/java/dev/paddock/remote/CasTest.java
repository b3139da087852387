package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.EMPTY;
import static dev.paddock.remote.RemoteFixture.assertStatus;
import static dev.paddock.remote.RemoteFixture.digest;
import static dev.paddock.remote.RemoteFixture.random;
import static dev.paddock.remote.RemoteFixture.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** ContentAddressableStorage: FindMissingBlobs, BatchUpdateBlobs, BatchReadBlobs and GetTree. */
@Timeout(120)
class CasTest extends ServerTest {
    private static final String UPPERCASE_HASH = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";

    @BeforeEach
    void start() throws Exception {
        remote = RemoteFixture.start(cache);
    }

    // ---- FindMissingBlobs ----

    @Test
    void findMissingReportsExactlyTheBlobsNotStored() {
        Digest stored = remote.put(utf8("stored"));
        Digest absent = digest(utf8("never uploaded"));
        Digest wrongSize = Digest.newBuilder(stored).setSizeBytes(stored.getSizeBytes() + 1).build();

        assertEquals(List.of(absent, wrongSize), remote.missing(stored, absent, wrongSize));
        assertEquals(List.of(), remote.missing(stored));
        assertEquals(List.of(), remote.missing());
    }

    @Test
    void theEmptyBlobIsNeverMissing() {
        assertEquals(List.of(), remote.missing(EMPTY));
        assertEquals(ByteString.EMPTY, remote.batchRead(EMPTY));
        assertEquals(ByteString.EMPTY, remote.read(EMPTY));
    }

    @Test
    void findMissingRefusesMalformedDigestsNamingTheField() {
        Digest good = digest(utf8("x"));
        for (String bad : List.of("abc", UPPERCASE_HASH, good.getHash() + "0", good.getHash().substring(1) + "g", "")) {
            Digest malformed = Digest.newBuilder().setHash(bad).setSizeBytes(1).build();
            assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.missing(good, malformed), "blob_digests[1]");
        }
        Digest negative = Digest.newBuilder(good).setSizeBytes(-1).build();
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.missing(negative), "blob_digests[0]", "negative");
    }

    @Test
    void findMissingRefusesOtherDigestFunctions() {
        for (DigestFunction.Value f : List.of(DigestFunction.Value.MD5, DigestFunction.Value.SHA1, DigestFunction.Value.BLAKE3)) {
            assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.cas().findMissingBlobs(FindMissingBlobsRequest.newBuilder()
                    .setDigestFunction(f).addBlobDigests(EMPTY).build()), f.name());
        }
        // SHA256 named explicitly is fine
        assertEquals(0, remote.cas().findMissingBlobs(FindMissingBlobsRequest.newBuilder()
                .setDigestFunction(DigestFunction.Value.SHA256).addBlobDigests(EMPTY).build()).getMissingBlobDigestsCount());
    }

    // ---- BatchUpdateBlobs ----

    @Test
    void batchUpdateStoresBlobsThatCanBeReadBack() {
        ByteString a = utf8("alpha"), b = random(1, 100_000);
        Map<Digest, ByteString> blobs = new LinkedHashMap<>();
        blobs.put(digest(a), a);
        blobs.put(digest(b), b);
        assertEquals(List.of(digest(a), digest(b)), remote.missing(digest(a), digest(b)));

        remote.putAll(blobs);

        assertEquals(List.of(), remote.missing(digest(a), digest(b)));
        assertEquals(a, remote.batchRead(digest(a)));
        assertEquals(b, remote.batchRead(digest(b)));
        assertEquals(b, remote.read(digest(b)));
        // storing again is harmless
        remote.putAll(blobs);
        assertEquals(b, remote.batchRead(digest(b)));
    }

    @Test
    void aDigestMismatchFailsThatEntryOnlyAndStoresNothingForIt() {
        ByteString good = utf8("good"), claimed = utf8("claimed"), sent = utf8("sent!!!");
        BatchUpdateBlobsResponse res = remote.cas().batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
                .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest(good)).setData(good))
                .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest(claimed)).setData(sent))
                .build());

        assertEquals(2, res.getResponsesCount());
        assertEquals(digest(good), res.getResponses(0).getDigest());
        assertEquals(Code.OK_VALUE, res.getResponses(0).getStatus().getCode());
        assertEquals(digest(claimed), res.getResponses(1).getDigest());
        assertEquals(Code.INVALID_ARGUMENT_VALUE, res.getResponses(1).getStatus().getCode(), res.getResponses(1).getStatus().toString());
        // neither under the digest it claimed nor under its real one
        assertEquals(List.of(digest(claimed), digest(sent)), remote.missing(digest(good), digest(claimed), digest(sent)));
    }

    @Test
    void aBatchOverTheLimitIsRefusedWholeAndStoresNothing() {
        int half = (int) (Capabilities.MAX_BATCH_BYTES / 2) + 1;
        ByteString a = random(2, half), b = random(3, half);
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.cas().batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
                .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest(a)).setData(a))
                .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest(b)).setData(b))
                .build()), "max_batch_total_size_bytes");
        assertEquals(List.of(digest(a), digest(b)), remote.missing(digest(a), digest(b)));

        // exactly at the limit is accepted
        ByteString c = random(4, (int) Capabilities.MAX_BATCH_BYTES);
        remote.put(c);
        assertEquals(List.of(), remote.missing(digest(c)));
        assertEquals(c, remote.batchRead(digest(c)), "and so is reading it back in one batch");
    }

    @Test
    void aCompressedBatchEntryIsRefused() {
        ByteString a = utf8("plain");
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.cas().batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
                .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest(a)).setData(a)
                        .setCompressor(Compressor.Value.ZSTD))
                .build()), "requests[0]", "compressor");
        assertEquals(List.of(digest(a)), remote.missing(digest(a)));
    }

    @Test
    void batchUpdateRefusesMalformedDigestsAndOtherDigestFunctions() {
        ByteString a = utf8("a");
        Digest upper = Digest.newBuilder().setHash(UPPERCASE_HASH).setSizeBytes(0).build();
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.cas().batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
                .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest(a)).setData(a))
                .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(upper))
                .build()), "requests[1].digest");
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.cas().batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
                .setDigestFunction(DigestFunction.Value.MD5)
                .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest(a)).setData(a))
                .build()));
        assertEquals(List.of(digest(a)), remote.missing(digest(a)), "a refused call stores nothing, not even its good entries");
    }

    // ---- BatchReadBlobs ----

    @Test
    void batchReadReturnsDataAndNotFoundPerEntry() {
        ByteString a = utf8("first"), b = random(5, 70_000);
        remote.put(a);
        remote.put(b);
        Digest absent = digest(utf8("absent"));

        BatchReadBlobsResponse res = remote.cas().batchReadBlobs(BatchReadBlobsRequest.newBuilder()
                .addDigests(digest(a)).addDigests(absent).addDigests(digest(b)).addDigests(EMPTY).build());

        assertEquals(4, res.getResponsesCount());
        assertEquals(digest(a), res.getResponses(0).getDigest());
        assertEquals(Code.OK_VALUE, res.getResponses(0).getStatus().getCode());
        assertEquals(a, res.getResponses(0).getData());
        assertEquals(absent, res.getResponses(1).getDigest());
        assertEquals(Code.NOT_FOUND_VALUE, res.getResponses(1).getStatus().getCode());
        assertTrue(res.getResponses(1).getData().isEmpty());
        assertEquals(b, res.getResponses(2).getData());
        assertEquals(Code.OK_VALUE, res.getResponses(3).getStatus().getCode());
        assertTrue(res.getResponses(3).getData().isEmpty());
    }

    @Test
    void anOversizedBatchReadIsRefused() {
        Digest big = Digest.newBuilder(digest(utf8("whatever"))).setSizeBytes(Capabilities.MAX_BATCH_BYTES + 1).build();
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.cas().batchReadBlobs(
                BatchReadBlobsRequest.newBuilder().addDigests(big).build()), "max_batch_total_size_bytes");
        Digest half = Digest.newBuilder(big).setSizeBytes(Capabilities.MAX_BATCH_BYTES / 2 + 1).build();
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.cas().batchReadBlobs(
                BatchReadBlobsRequest.newBuilder().addDigests(half).addDigests(half).build()));
    }

    @Test
    void batchReadRefusesMalformedDigests() {
        Digest negative = Digest.newBuilder(EMPTY).setSizeBytes(-5).build();
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.cas().batchReadBlobs(
                BatchReadBlobsRequest.newBuilder().addDigests(EMPTY).addDigests(negative).build()), "digests[1]");
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.cas().batchReadBlobs(
                BatchReadBlobsRequest.newBuilder().setDigestFunction(DigestFunction.Value.SHA512).addDigests(EMPTY).build()));
    }

    // ---- GetTree ----

    /** root -> {a, b}; a -> shared; b -> shared (and a file of its own); shared -> a file. Four distinct directories. */
    private record Tree3(Digest root, List<Directory> distinct) {}

    private Tree3 uploadTree() {
        FileNode leafFile = FileNode.newBuilder().setName("leaf.txt").setDigest(remote.put(utf8("leaf"))).build();
        Directory shared = Directory.newBuilder().addFiles(leafFile).build();
        DirectoryNode sharedNode = DirectoryNode.newBuilder().setName("shared").setDigest(digest(shared)).build();
        Directory a = Directory.newBuilder().addDirectories(sharedNode).build();
        Directory b = Directory.newBuilder()
                .addFiles(FileNode.newBuilder().setName("b.txt").setDigest(remote.put(utf8("b"))))
                .addDirectories(sharedNode).build();
        Directory root = Directory.newBuilder()
                .addDirectories(DirectoryNode.newBuilder().setName("a").setDigest(digest(a)))
                .addDirectories(DirectoryNode.newBuilder().setName("b").setDigest(digest(b)))
                .addDirectories(DirectoryNode.newBuilder().setName("c").setDigest(digest(shared))) // shared once more, one level up
                .build();
        Map<Digest, ByteString> blobs = new LinkedHashMap<>();
        for (Directory d : List.of(shared, a, b, root)) blobs.put(digest(d), d.toByteString());
        remote.putAll(blobs);
        return new Tree3(digest(root), List.of(root, a, b, shared));
    }

    private List<GetTreeResponse> getTree(Digest root, int pageSize, String token) {
        List<GetTreeResponse> pages = new ArrayList<>();
        remote.cas().getTree(GetTreeRequest.newBuilder().setRootDigest(root).setPageSize(pageSize).setPageToken(token).build())
                .forEachRemaining(pages::add);
        return pages;
    }

    private static List<Directory> directories(List<GetTreeResponse> pages) {
        return pages.stream().flatMap(p -> p.getDirectoriesList().stream()).toList();
    }

    @Test
    void getTreeReturnsEachDistinctDirectoryOnce() {
        Tree3 tree = uploadTree();
        List<GetTreeResponse> pages = getTree(tree.root(), 0, "");

        List<Directory> dirs = directories(pages);
        assertEquals(tree.distinct().size(), dirs.size(), "each distinct directory once: " + dirs);
        assertEquals(new HashSet<>(tree.distinct()), new HashSet<>(dirs));
        assertEquals(tree.distinct().get(0), dirs.get(0), "the root comes first");
        assertTrue(pages.getLast().getNextPageToken().isEmpty(), "the last page has no next_page_token");
    }

    @Test
    void getTreePagesAndResumesFromAToken() {
        Tree3 tree = uploadTree();
        List<GetTreeResponse> pages = getTree(tree.root(), 1, "");

        assertEquals(4, pages.size(), "page_size 1: one page per directory");
        for (GetTreeResponse p : pages) assertEquals(1, p.getDirectoriesCount());
        for (GetTreeResponse p : pages.subList(0, 3)) assertFalse(p.getNextPageToken().isEmpty(), "every page but the last has a token");
        assertTrue(pages.get(3).getNextPageToken().isEmpty());
        List<Directory> all = directories(pages);
        assertEquals(new HashSet<>(tree.distinct()), new HashSet<>(all));
        assertEquals(4, Set.copyOf(all).size());

        // resuming with the first page's token gives everything after the first page, in the same order
        List<GetTreeResponse> resumed = getTree(tree.root(), 1, pages.get(0).getNextPageToken());
        assertEquals(all.subList(1, 4), directories(resumed));
        // and with the third page's token, only the last directory
        List<GetTreeResponse> last = getTree(tree.root(), 2, pages.get(2).getNextPageToken());
        assertEquals(all.subList(3, 4), directories(last));
        assertTrue(last.getLast().getNextPageToken().isEmpty());

        // page_size 3: a full page with a token, then the rest
        List<GetTreeResponse> threes = getTree(tree.root(), 3, "");
        assertEquals(2, threes.size());
        assertEquals(3, threes.get(0).getDirectoriesCount());
        assertFalse(threes.get(0).getNextPageToken().isEmpty());
        assertEquals(all, directories(threes));
    }

    @Test
    void getTreeOfALeafIsOnePage() {
        Directory leaf = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("f").setDigest(EMPTY)).build();
        remote.put(leaf);
        List<GetTreeResponse> pages = getTree(digest(leaf), 0, "");
        assertEquals(1, pages.size());
        assertEquals(List.of(leaf), pages.get(0).getDirectoriesList());
    }

    @Test
    void getTreeOfAMissingRootIsNotFound() {
        Directory never = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("nope").setDigest(EMPTY)).build();
        assertStatus(Status.Code.NOT_FOUND, () -> getTree(digest(never), 0, ""));
    }

    @Test
    void getTreeRefusesABadPageTokenAndBadRequests() {
        Tree3 tree = uploadTree();
        for (String token : List.of("not-a-token", "-1", "1.5"))
            assertStatus(Status.Code.INVALID_ARGUMENT, () -> getTree(tree.root(), 1, token), "page_token");
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> getTree(tree.root(), -1, ""), "page_size");
        Digest upper = Digest.newBuilder().setHash(UPPERCASE_HASH).setSizeBytes(0).build();
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> getTree(upper, 0, ""), "root_digest");
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.cas().getTree(GetTreeRequest.newBuilder()
                .setRootDigest(tree.root()).setDigestFunction(DigestFunction.Value.MD5).build()).forEachRemaining(p -> {}));
    }

    @Test
    void getTreeWithAMalformedChildDigestFailsCleanly() {
        // a Directory in the store whose child digest is not a SHA-256 digest at all
        for (String hash : List.of("", "a", "ABC")) {
            Directory root = Directory.newBuilder().addDirectories(DirectoryNode.newBuilder().setName("bad")
                    .setDigest(Digest.newBuilder().setHash(hash).setSizeBytes(3))).build();
            remote.put(root);
            try {
                List<Directory> dirs = directories(getTree(digest(root), 0, ""));
                assertEquals(List.of(root), dirs, "at most the root comes back");
            } catch (StatusRuntimeException e) {
                assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), "hash '" + hash + "': " + e.getStatus());
            }
        }
    }

    @Test
    void getTreeOfAMissingRootTooLargeToReadWholeIsNotFound() {
        Digest huge = Digest.newBuilder(digest(utf8("not stored"))).setSizeBytes(100L << 20).build();
        assertStatus(Status.Code.NOT_FOUND, () -> getTree(huge, 0, ""));
    }
}
