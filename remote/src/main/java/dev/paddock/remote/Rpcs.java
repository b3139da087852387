package dev.paddock.remote;

import com.google.rpc.Code;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;

/** What every unary handler does with its outcome: a response, INVALID_ARGUMENT, or INTERNAL. */
final class Rpcs {
    static final com.google.rpc.Status OK = com.google.rpc.Status.newBuilder().setCode(Code.OK_VALUE).build();

    private Rpcs() {}

    interface Handler<T> {
        T handle() throws IOException, BadRequest;
    }

    static <T> void unary(StreamObserver<T> observer, Handler<T> handler) {
        T result;
        try {
            result = handler.handle();
        } catch (BadRequest e) {
            observer.onError(e.toStatus());
            return;
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        } catch (IOException | RuntimeException e) {
            observer.onError(internal(e));
            return;
        }
        observer.onNext(result);
        observer.onCompleted();
    }

    static StatusRuntimeException internal(Exception e) {
        return Status.INTERNAL.withDescription("paddock serve: " + e).withCause(e).asRuntimeException();
    }

    static com.google.rpc.Status status(Code code, String message) {
        return com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage(message).build();
    }
}
