package dev.paddock.remote;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** A request the server refuses as malformed: INVALID_ARGUMENT, and nothing changed. */
final class BadRequest extends Exception {
    private static final long serialVersionUID = 1L;

    BadRequest(String message) {
        super(message, null, false, false);
    }

    StatusRuntimeException toStatus() {
        return Status.INVALID_ARGUMENT.withDescription(getMessage()).asRuntimeException();
    }
}
