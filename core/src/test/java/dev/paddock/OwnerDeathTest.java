package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL of a JVM that runs 20 action trees (or 8 sandboxes), in either mode: the lifeline (or
 * the spawn server's socket) closes with the JVM, and no process of those trees survives 2
 * seconds later.
 */
class OwnerDeathTest {
    static final int TREES = 20;
    static final int SANDBOXES = 8;

    /** Runs in the JVM that gets killed: starts the trees and says when they are up. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Paddock paddock = Paddock.create(SpawnMode.valueOf(args[1]));
        if (args.length > 2) { // sandboxes, their processes marked with args[2]
            for (int i = 0; i < SANDBOXES; i++) {
                Path work = Files.createDirectory(dir.resolve("work-" + i));
                Sandbox sandbox = i % 2 == 0 ? Sandbox.hostReadOnly()
                        : Sandbox.newBuilder().network(Sandbox.Network.SHARED).build();
                paddock.start(Action.newBuilder("sh", "-c",
                        "sleep " + args[2] + " & (sleep " + args[2] + " &) ; echo $$ > ready; wait")
                        .directory(work).sandbox(sandbox).build());
            }
            for (int i = 0; i < SANDBOXES; i++)
                Procs.awaitPids(dir.resolve("work-" + i).resolve("ready"), 1, Duration.ofSeconds(60));
        } else {
            for (int i = 0; i < TREES; i++) {
                Path pids = dir.resolve("pids-" + i);
                paddock.start(Action.newBuilder("sh", "-c",
                        ContainmentTest.daemons(pids) + "sleep 600").build());
            }
            for (int i = 0; i < TREES; i++) Procs.awaitPids(dir.resolve("pids-" + i), 3, Duration.ofSeconds(60));
        }
        Files.writeString(dir.resolve("ready"), "ready\n");
        Thread.sleep(Long.MAX_VALUE); // wait to be killed
    }

    @ParameterizedTest
    @EnumSource(SpawnMode.class)
    void killedOwnerTakesEveryTreeWithIt(SpawnMode mode, @TempDir Path dir) throws Exception {
        Process owner = startOwner(dir, mode.name());
        try {
            awaitReady(owner, dir);
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

    @ParameterizedTest
    @EnumSource(SpawnMode.class)
    void killedOwnerTakesEverySandboxWithIt(SpawnMode mode, @TempDir Path dir) throws Exception {
        String max = Files.readAllLines(Path.of("/proc/sys/user/max_user_namespaces")).get(0).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        // A sandboxed action's pids are its namespace's: find its processes on the host by a marker.
        String marker = "600." + System.nanoTime();
        Process owner = startOwner(dir, mode.name(), marker);
        try {
            awaitReady(owner, dir);
            List<Long> sleeps = Procs.awaitStartedAs("sleep " + marker, SANDBOXES * 2, Duration.ofSeconds(60));
            assertEquals(SANDBOXES * 2, sleeps.size(), "two sleeps per sandbox: " + sleeps);
            owner.destroyForcibly(); // SIGKILL: no shutdown hooks, no close()
            owner.waitFor();
            assertEquals(List.of(), Procs.survivors(sleeps, marker, Duration.ofSeconds(2)));
        } finally {
            owner.destroyForcibly();
        }
    }

    private static Process startOwner(Path dir, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), OwnerDeathTest.class.getName(), dir.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).inheritIO().start();
    }

    /** Until the owner says its actions are up (it writes "ready"), bounded. */
    private static void awaitReady(Process owner, Path dir) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Files.exists(dir.resolve("ready"))) {
            assertTrue(owner.isAlive(), "the owner JVM died before starting its actions");
            assertTrue(System.nanoTime() < deadline, "the owner JVM did not start its actions within 60 s");
            Thread.sleep(10);
        }
    }
}
