package dev.paddock.remote;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * google.bytestream for blobs of any size, in chunks: memory stays bounded by one chunk per
 * call. Reads follow the transport's flow control; writes go to a partial file named by the
 * upload id and digest, which survives a dropped connection and a restart, so that a client can
 * ask QueryWriteStatus and resume where the server's copy ends. {@link PartialUploads} bounds
 * what unfinished uploads hold, in bytes and in age.
 */
final class ByteStreamService extends ByteStreamGrpc.ByteStreamImplBase {
    static final int CHUNK_BYTES = 64 * 1024;

    private final BlobStore store;
    private final PartialUploads uploads;

    ByteStreamService(BlobStore store, PartialUploads uploads) {
        this.store = store;
        this.uploads = uploads;
    }

    @Override
    public void read(ReadRequest request, StreamObserver<ReadResponse> response) {
        ServerCallStreamObserver<ReadResponse> call = (ServerCallStreamObserver<ReadResponse>) response;
        FileChannel channel;
        long end;
        try {
            ResourceName name = ResourceName.forRead(request.getResourceName());
            long size = name.digest().getSizeBytes();
            if (request.getReadOffset() < 0 || request.getReadOffset() > size) {
                response.onError(Status.OUT_OF_RANGE.withDescription("read_offset " + request.getReadOffset()
                        + " is outside blob " + Digests.format(name.digest()) + " (0 to " + size + ")").asRuntimeException());
                return;
            }
            if (request.getReadLimit() < 0) throw new BadRequest("read_limit " + request.getReadLimit() + " is negative");
            Optional<Path> file = store.find(name.digest());
            if (file.isEmpty()) {
                response.onError(Status.NOT_FOUND.withDescription("blob " + Digests.format(name.digest())
                        + " is not in the store").asRuntimeException());
                return;
            }
            channel = FileChannel.open(file.get(), StandardOpenOption.READ);
            channel.position(request.getReadOffset());
            long left = size - request.getReadOffset();
            end = request.getReadLimit() == 0 || request.getReadLimit() >= left ? size : request.getReadOffset() + request.getReadLimit();
        } catch (BadRequest e) {
            response.onError(e.toStatus());
            return;
        } catch (NoSuchFileException e) {
            response.onError(Status.NOT_FOUND.withDescription("blob was evicted while opening it").asRuntimeException());
            return;
        } catch (IOException e) {
            response.onError(Rpcs.internal(e));
            return;
        }
        Reader reader = new Reader(call, channel, end);
        call.setOnCancelHandler(reader::close);
        call.setOnReadyHandler(reader::drain);
    }

    /** Sends chunks while the transport wants more; the on-ready handler resumes it. */
    private static final class Reader {
        private final ServerCallStreamObserver<ReadResponse> call;
        private final FileChannel channel;
        private final long end;
        private final ByteBuffer buffer = ByteBuffer.allocate(CHUNK_BYTES);
        private boolean done;

        Reader(ServerCallStreamObserver<ReadResponse> call, FileChannel channel, long end) {
            this.call = call;
            this.channel = channel;
            this.end = end;
        }

        synchronized void drain() {
            try {
                while (!done && call.isReady()) {
                    long left = end - channel.position();
                    if (left <= 0) {
                        close();
                        call.onCompleted();
                        return;
                    }
                    buffer.clear().limit((int) Math.min(CHUNK_BYTES, left));
                    int n = channel.read(buffer);
                    if (n < 0) throw new IOException("blob file ended early: the store is damaged");
                    call.onNext(ReadResponse.newBuilder().setData(ByteString.copyFrom(buffer.flip())).build());
                }
            } catch (IOException e) {
                close();
                call.onError(Rpcs.internal(e));
            }
        }

        synchronized void close() {
            done = true;
            try {
                channel.close();
            } catch (IOException e) {
                // nothing left to do with a read-only file
            }
        }
    }

    @Override
    public StreamObserver<WriteRequest> write(StreamObserver<WriteResponse> response) {
        return new Writer(response);
    }

    private final class Writer implements StreamObserver<WriteRequest> {
        private final StreamObserver<WriteResponse> response;
        private ResourceName name;
        private PartialUploads.Lease lease; // one Write call per upload at a time
        private FileChannel channel;
        private long committed;
        private boolean finished; // answered, by a response or an error

        Writer(StreamObserver<WriteResponse> response) {
            this.response = response;
        }

        @Override
        public void onNext(WriteRequest request) {
            if (finished) return; // the blob was already complete: the rest of the stream is not needed
            try {
                if (name == null) {
                    if (!start(request)) return;
                } else if (!request.getResourceName().isEmpty()
                        && !ResourceName.forWrite(request.getResourceName()).equals(name)) {
                    throw new BadRequest("resource_name changed within one Write call, from uploads/" + name.upload()
                            + " to '" + request.getResourceName() + "'");
                }
                if (request.getWriteOffset() != committed)
                    throw new BadRequest("write_offset " + request.getWriteOffset() + " does not follow the " + committed
                            + " bytes the server holds for this upload; ask QueryWriteStatus where to resume");
                long size = name.digest().getSizeBytes();
                if (committed + request.getData().size() > size)
                    throw new BadRequest("the upload is longer than the " + size + " bytes its digest says");
                if (request.getFinishWrite() && committed + request.getData().size() != size)
                    throw new BadRequest("finish_write after " + (committed + request.getData().size())
                            + " bytes, but the digest says " + size);
                lease.reserve(request.getData().size());
                for (ByteBuffer b : request.getData().asReadOnlyByteBufferList())
                    while (b.hasRemaining()) channel.write(b);
                committed += request.getData().size();
                if (request.getFinishWrite()) {
                    channel.close();
                    channel = null;
                    store.commitUpload(lease.file(), name.digest());
                    respond(size);
                }
            } catch (BadRequest e) {
                fail(e.toStatus());
            } catch (StatusRuntimeException e) { // RESOURCE_EXHAUSTED
                fail(e);
            } catch (IOException e) {
                fail(Rpcs.internal(e));
            }
        }

        /** Opens the upload; false when it needs no data because the store already has the blob. */
        private boolean start(WriteRequest first) throws BadRequest, IOException {
            if (first.getResourceName().isEmpty()) throw new BadRequest("the first WriteRequest must name the resource");
            name = ResourceName.forWrite(first.getResourceName());
            if (store.contains(name.digest())) {
                respond(name.digest().getSizeBytes());
                return false;
            }
            uploads.checkFits(name.digest());
            Optional<PartialUploads.Lease> taken = uploads.open(name.uploadKey());
            if (taken.isEmpty()) {
                finished = true;
                response.onError(Status.ABORTED.withDescription("another Write call is uploading '"
                        + first.getResourceName() + "'; retry when it ends").asRuntimeException());
                return false;
            }
            lease = taken.get();
            channel = FileChannel.open(lease.file(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            committed = channel.size();
            channel.position(committed);
            return true;
        }

        private void respond(long committedSize) {
            release();
            finished = true;
            response.onNext(WriteResponse.newBuilder().setCommittedSize(committedSize).build());
            response.onCompleted();
        }

        /** Refusals are checked before anything is written: the partial upload stays as it was. */
        private void fail(StatusRuntimeException status) {
            release();
            finished = true;
            response.onError(status);
        }

        private void release() {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    // the partial file keeps what reached it
                }
                channel = null;
            }
            if (lease != null) {
                lease.close();
                lease = null;
            }
        }

        @Override
        public void onError(Throwable t) {
            release(); // the client went away: keep the partial upload for a resumed Write
        }

        @Override
        public void onCompleted() {
            if (finished) return;
            if (name == null) {
                fail(new BadRequest("the Write call sent no request").toStatus());
                return;
            }
            respond(committed); // the client may resume from here with a new call
        }
    }

    @Override
    public void queryWriteStatus(QueryWriteStatusRequest request, StreamObserver<QueryWriteStatusResponse> response) {
        Rpcs.unary(response, () -> {
            ResourceName name = ResourceName.forWrite(request.getResourceName());
            if (store.contains(name.digest()))
                return QueryWriteStatusResponse.newBuilder().setCommittedSize(name.digest().getSizeBytes())
                        .setComplete(true).build();
            // unknown uploads, and removed ones, start at 0
            return QueryWriteStatusResponse.newBuilder().setCommittedSize(uploads.committedSize(name.uploadKey())).build();
        });
    }
}
