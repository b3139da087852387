package dev.paddock.remote;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/** ContentAddressableStorage: which blobs are missing, small blobs in batches, and directory trees. */
final class CasService extends ContentAddressableStorageGrpc.ContentAddressableStorageImplBase {
    /** The most GetTree sends per page when the client does not say. */
    static final int DEFAULT_TREE_PAGE = 1000;

    private final BlobStore store;

    CasService(BlobStore store) {
        this.store = store;
    }

    @Override
    public void findMissingBlobs(FindMissingBlobsRequest request, StreamObserver<FindMissingBlobsResponse> response) {
        Rpcs.unary(response, () -> {
            Digests.checkFunction(request.getDigestFunction());
            FindMissingBlobsResponse.Builder out = FindMissingBlobsResponse.newBuilder();
            int i = 0;
            for (Digest d : request.getBlobDigestsList()) Digests.check(d, "blob_digests[" + i++ + "]");
            for (Digest d : request.getBlobDigestsList()) if (!store.contains(d)) out.addMissingBlobDigests(d);
            return out.build();
        });
    }

    @Override
    public void batchUpdateBlobs(BatchUpdateBlobsRequest request, StreamObserver<BatchUpdateBlobsResponse> response) {
        Rpcs.unary(response, () -> {
            Digests.checkFunction(request.getDigestFunction());
            long total = 0;
            int i = 0;
            for (BatchUpdateBlobsRequest.Request r : request.getRequestsList()) {
                String where = "requests[" + i++ + "]";
                Digests.check(r.getDigest(), where + ".digest");
                if (r.getCompressor() != Compressor.Value.IDENTITY)
                    throw new BadRequest(where + ": compressor " + r.getCompressor() + " is not supported; send blobs uncompressed");
                total += r.getData().size();
            }
            if (total > Capabilities.MAX_BATCH_BYTES)
                throw new BadRequest("the batch holds " + total + " bytes, more than the " + Capabilities.MAX_BATCH_BYTES
                        + " bytes this server accepts (max_batch_total_size_bytes); upload large blobs with ByteStream.Write");
            BatchUpdateBlobsResponse.Builder out = BatchUpdateBlobsResponse.newBuilder();
            for (BatchUpdateBlobsRequest.Request r : request.getRequestsList()) {
                com.google.rpc.Status status;
                try {
                    store.put(r.getDigest(), r.getData());
                    status = Rpcs.OK;
                } catch (BadRequest e) {
                    status = Rpcs.status(Code.INVALID_ARGUMENT, e.getMessage());
                }
                out.addResponsesBuilder().setDigest(r.getDigest()).setStatus(status);
            }
            return out.build();
        });
    }

    @Override
    public void batchReadBlobs(BatchReadBlobsRequest request, StreamObserver<BatchReadBlobsResponse> response) {
        Rpcs.unary(response, () -> {
            Digests.checkFunction(request.getDigestFunction());
            long total = 0;
            int i = 0;
            for (Digest d : request.getDigestsList()) {
                Digests.check(d, "digests[" + i++ + "]");
                total += d.getSizeBytes();
            }
            if (total > Capabilities.MAX_BATCH_BYTES)
                throw new BadRequest("the batch asks for " + total + " bytes, more than the " + Capabilities.MAX_BATCH_BYTES
                        + " bytes this server sends (max_batch_total_size_bytes); download large blobs with ByteStream.Read");
            BatchReadBlobsResponse.Builder out = BatchReadBlobsResponse.newBuilder();
            for (Digest d : request.getDigestsList()) {
                Optional<ByteString> data = store.read(d);
                BatchReadBlobsResponse.Response.Builder r = out.addResponsesBuilder().setDigest(d);
                if (data.isPresent()) r.setData(data.get()).setStatus(Rpcs.OK);
                else r.setStatus(Rpcs.status(Code.NOT_FOUND, "blob " + Digests.format(d) + " is not in the store"));
            }
            return out.build();
        });
    }

    /**
     * Streams the directories under root_digest, breadth first, each distinct directory once, in
     * pages of page_size. Each page's token is the number of directories before the next page, so
     * a client whose stream broke can resume from the last page it received.
     */
    @Override
    public void getTree(GetTreeRequest request, StreamObserver<GetTreeResponse> response) {
        try {
            Digests.checkFunction(request.getDigestFunction());
            Digests.check(request.getRootDigest(), "root_digest");
            if (request.getPageSize() < 0) throw new BadRequest("page_size " + request.getPageSize() + " is negative");
            int pageSize = request.getPageSize() == 0 ? DEFAULT_TREE_PAGE : request.getPageSize();
            long skip = 0;
            if (!request.getPageToken().isEmpty()) {
                try {
                    skip = Long.parseLong(request.getPageToken());
                } catch (NumberFormatException e) {
                    skip = -1;
                }
                if (skip < 0) throw new BadRequest("page_token '" + request.getPageToken() + "' was not issued by this server");
            }
            Deque<Digest> queue = new ArrayDeque<>();
            Set<Digest> seen = new HashSet<>();
            queue.add(request.getRootDigest());
            seen.add(request.getRootDigest());
            long index = 0;
            boolean sent = false;
            GetTreeResponse.Builder page = GetTreeResponse.newBuilder();
            while (!queue.isEmpty()) {
                Digest d = queue.poll();
                Optional<Directory> dir = store.readMessage(d, Directory.parser(), "Directory");
                if (dir.isEmpty() && index == 0) {
                    response.onError(Status.NOT_FOUND.withDescription("root directory " + Digests.format(d)
                            + " is not in the store").asRuntimeException());
                    return;
                }
                index++;
                if (dir.isEmpty()) continue; // the API lets a tree with missing parts come back partial
                for (DirectoryNode child : dir.get().getDirectoriesList())
                    if (seen.add(child.getDigest())) queue.add(child.getDigest());
                if (index <= skip) continue;
                page.addDirectories(dir.get());
                if (page.getDirectoriesCount() == pageSize && !queue.isEmpty()) {
                    response.onNext(page.setNextPageToken(Long.toString(index)).build());
                    sent = true;
                    page = GetTreeResponse.newBuilder();
                }
            }
            if (page.getDirectoriesCount() > 0 || !sent) response.onNext(page.build());
            response.onCompleted();
        } catch (BadRequest e) {
            response.onError(e.toStatus());
        } catch (IOException e) {
            response.onError(Rpcs.internal(e));
        }
    }
}
