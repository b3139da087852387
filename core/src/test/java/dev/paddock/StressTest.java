package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Thousands of spawns from one JVM, sequential and concurrent, in both modes: zero failures. */
class StressTest {
    static final int SPAWNS = 5000;
    static final Action TRUE = Action.newBuilder("/bin/true").stdout(Stdio.discard()).stderr(Stdio.discard()).build();

    @ParameterizedTest
    @EnumSource(SpawnMode.class)
    void sequentialSpawns(SpawnMode mode) throws Exception {
        List<String> failures = new ArrayList<>();
        try (Paddock paddock = Paddock.create(mode)) {
            for (int i = 0; i < SPAWNS; i++) {
                Outcome o = paddock.run(TRUE);
                if (!o.succeeded()) failures.add("spawn " + i + ": " + o);
            }
        }
        assertEquals(List.of(), failures.stream().limit(5).toList(), failures.size() + " of " + SPAWNS + " failed");
    }

    @ParameterizedTest
    @EnumSource(SpawnMode.class)
    void concurrentSpawnsFromPlatformThreads(SpawnMode mode) throws Exception {
        try (ExecutorService threads = Executors.newFixedThreadPool(8)) {
            assertNoFailures(threads, mode);
        }
    }

    @ParameterizedTest
    @EnumSource(SpawnMode.class)
    void concurrentSpawnsFromVirtualThreads(SpawnMode mode) throws Exception {
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            assertNoFailures(threads, mode);
        }
    }

    /** 8 workers share SPAWNS spawns. */
    private static void assertNoFailures(ExecutorService threads, SpawnMode mode) throws Exception {
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger next = new AtomicInteger();
        try (Paddock paddock = Paddock.create(mode)) {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                workers.add(threads.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < SPAWNS; ) {
                        try {
                            Outcome o = paddock.run(TRUE);
                            if (!o.succeeded()) failures.add("spawn " + i + ": " + o);
                        } catch (Exception e) {
                            failures.add("spawn " + i + ": " + e);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> w : workers) w.get();
        }
        assertEquals(List.of(), failures.stream().limit(5).toList(), failures.size() + " of " + SPAWNS + " failed");
    }
}
