package dev.paddock.cli;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Latency figures of one benchmark subject. */
record LatencyStats(String name, int spawns, long failures, double medianUs, double p90Us, double p99Us,
                    double perSecond) {

    /** From per-spawn latencies in nanoseconds and the wall time they took together. */
    static LatencyStats of(String name, long[] latenciesNs, long failures, long wallNs) {
        long[] sorted = latenciesNs.clone();
        Arrays.sort(sorted);
        return new LatencyStats(name, sorted.length, failures, percentile(sorted, 50) / 1000.0,
                percentile(sorted, 90) / 1000.0, percentile(sorted, 99) / 1000.0,
                wallNs <= 0 ? 0 : sorted.length * 1e9 / wallNs);
    }

    private static long percentile(long[] sorted, int p) {
        if (sorted.length == 0) return 0;
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("spawns", spawns);
        m.put("median_us", round(medianUs));
        m.put("p90_us", round(p90Us));
        m.put("p99_us", round(p99Us));
        m.put("per_second", round(perSecond));
        m.put("failures", failures);
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
