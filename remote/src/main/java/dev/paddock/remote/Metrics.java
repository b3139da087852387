package dev.paddock.remote;

import build.bazel.remote.execution.v2.ExecuteResponse;
import com.google.rpc.Code;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/** The server's Prometheus metrics, in a registry of its own (one per server). */
final class Metrics {
    final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter executions = Counter.builder().name("paddock_remote_executions")
            .help("Execute requests completed, by outcome: cached, success (exit 0), failure (other exit codes),"
                    + " timeout, cancelled or error (the action could not run)")
            .labelNames("outcome").register(registry);
    private final Counter cacheLookups = Counter.builder().name("paddock_remote_action_cache_lookups")
            .help("Action cache lookups (GetActionResult and Execute's cache check), by result: hit or miss")
            .labelNames("result").register(registry);

    Metrics(LongSupplier storeBytes, long storeLimit) {
        GaugeWithCallback.builder().name("paddock_remote_store_bytes").help("Bytes of blobs in the content store")
                .callback(cb -> cb.call(storeBytes.getAsLong())).register(registry);
        GaugeWithCallback.builder().name("paddock_remote_store_limit_bytes").help("The content store's size limit")
                .callback(cb -> cb.call(storeLimit)).register(registry);
    }

    void watchQueue(IntSupplier queued, IntSupplier running) {
        GaugeWithCallback.builder().name("paddock_remote_queue_length").help("Actions waiting for a worker")
                .callback(cb -> cb.call(queued.getAsInt())).register(registry);
        GaugeWithCallback.builder().name("paddock_remote_running_actions").help("Actions running now")
                .callback(cb -> cb.call(running.getAsInt())).register(registry);
    }

    void cacheLookup(boolean hit) {
        cacheLookups.labelValues(hit ? "hit" : "miss").inc();
    }

    void executed(ExecuteResponse r) {
        int code = r.getStatus().getCode();
        String outcome;
        if (r.getCachedResult()) outcome = "cached";
        else if (code == Code.DEADLINE_EXCEEDED_VALUE) outcome = "timeout";
        else if (code == Code.CANCELLED_VALUE) outcome = "cancelled";
        else if (code != Code.OK_VALUE) outcome = "error";
        else outcome = r.getResult().getExitCode() == 0 ? "success" : "failure";
        executions.labelValues(outcome).inc();
    }
}
