package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL of a JVM that runs 20 action trees, in either mode: the lifeline (or the spawn
 * server's socket) closes with the JVM, and no process of those trees survives 2 seconds later.
 */
class OwnerDeathTest {
    static final int TREES = 20;

    /** Runs in the JVM that gets killed: starts the trees and says when they are up. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Paddock paddock = Paddock.create(SpawnMode.valueOf(args[1]));
        for (int i = 0; i < TREES; i++) {
            Path pids = dir.resolve("pids-" + i);
            paddock.start(Action.newBuilder("sh", "-c",
                    ContainmentTest.daemons(pids) + "sleep 600").build());
        }
        for (int i = 0; i < TREES; i++) Procs.awaitPids(dir.resolve("pids-" + i), 3, Duration.ofSeconds(60));
        Files.writeString(dir.resolve("ready"), "ready\n");
        Thread.sleep(Long.MAX_VALUE); // wait to be killed
    }

    @ParameterizedTest
    @EnumSource(SpawnMode.class)
    void killedOwnerTakesEveryTreeWithIt(SpawnMode mode, @TempDir Path dir) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process owner = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), OwnerDeathTest.class.getName(), dir.toString(), mode.name())
                .inheritIO().start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!Files.exists(dir.resolve("ready"))) { // the owner writes it when all 20 trees are up
                assertTrue(owner.isAlive(), "the owner JVM died before starting its trees");
                assertTrue(System.nanoTime() < deadline, "the owner JVM did not start its trees within 60 s");
                Thread.sleep(10);
            }
            List<Long> pids = new ArrayList<>();
            for (int i = 0; i < TREES; i++) pids.addAll(Procs.awaitPids(dir.resolve("pids-" + i), 3, Duration.ZERO));
            assertEquals(TREES * 3, pids.size());
            owner.destroyForcibly(); // SIGKILL: no shutdown hooks, no close()
            owner.waitFor();
            assertEquals(List.of(), Procs.survivors(pids, "s", Duration.ofSeconds(2)));
        } finally {
            owner.destroyForcibly();
        }
    }
}
