package dev.paddock.remote;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Counts, per method, the request messages the server's handlers have finished with and the
 * calls that have ended on the server's side, so that a test can wait for the server to have
 * processed something (a chunk, a cancellation) instead of sleeping.
 */
final class CallTracker implements ServerInterceptor {
    private final Map<String, Integer> messages = new HashMap<>();
    private final Map<String, Integer> closed = new HashMap<>();

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
            @Override
            public void onMessage(Q message) {
                try {
                    super.onMessage(message);
                } finally {
                    count(messages, method);
                }
            }

            @Override
            public void onCancel() {
                try {
                    super.onCancel();
                } finally {
                    count(closed, method);
                }
            }

            @Override
            public void onComplete() {
                try {
                    super.onComplete();
                } finally {
                    count(closed, method);
                }
            }
        };
    }

    private synchronized void count(Map<String, Integer> counts, String method) {
        counts.merge(method, 1, Integer::sum);
        notifyAll();
    }

    /** Request messages of method the server has handled so far. */
    synchronized int messages(String method) {
        return messages.getOrDefault(method, 0);
    }

    /** Calls of method that have ended on the server (completed, failed or cancelled). */
    synchronized int closed(String method) {
        return closed.getOrDefault(method, 0);
    }

    /** Waits until the server has handled at least n request messages of method. */
    void awaitMessages(String method, int n) throws InterruptedException {
        await(messages, method, n, "request messages handled");
    }

    /** Waits until at least n calls of method have ended on the server's side. */
    void awaitClosed(String method, int n) throws InterruptedException {
        await(closed, method, n, "calls ended");
    }

    private synchronized void await(Map<String, Integer> counts, String method, int n, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + RemoteFixture.WAIT.toNanos();
        while (counts.getOrDefault(method, 0) < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0)
                throw new AssertionError(method + ": " + counts.getOrDefault(method, 0) + " " + what + ", expected "
                        + n + " within " + RemoteFixture.WAIT);
            wait(Math.max(1, Duration.ofNanos(left).toMillis()));
        }
    }
}
