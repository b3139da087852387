package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.paddock.testing.HostTools;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spawn server itself: its death mid-flight, its replacement, its shared network namespace, and its footprint. */
class SpawnServerTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final Action TRUE = Action.newBuilder("/bin/true").stdout(Stdio.discard()).stderr(Stdio.discard()).build();

    @Test
    void killedServerEndsEveryActionAndTheNextSpawnStartsANewOne(@TempDir Path dir) throws Exception {
        try (Paddock paddock = Paddock.create(SpawnMode.SERVER)) {
            List<Execution> running = new ArrayList<>();
            for (int i = 0; i < 8; i++)
                running.add(paddock.start(Action.newBuilder("sh", "-c",
                        ContainmentTest.daemons(dir.resolve("pids-" + i)) + "sleep 600").build()));
            List<Long> pids = new ArrayList<>();
            for (int i = 0; i < 8; i++) pids.addAll(Procs.awaitPids(dir.resolve("pids-" + i), 3, WAIT));
            long server = paddock.spawnServerPid();
            assertTrue(server > 0, "no spawn server pid");

            assertTrue(ProcessHandle.of(server).orElseThrow().destroyForcibly(), "SIGKILL to the server");

            for (Execution e : running) {
                Outcome o = e.await(WAIT).orElseThrow(() -> new AssertionError("no outcome after the server died"));
                assertTrue(o.ownerLost(), "the outcome must say the action lost its owner: " + o);
                assertFalse(o.succeeded(), o.toString());
            }
            assertEquals(List.of(), Procs.survivors(pids, "s", Duration.ofSeconds(2)),
                    "processes of the actions survived the server");

            Outcome next = paddock.run(TRUE);
            assertTrue(next.succeeded(), "the spawn after the server died: " + next);
            assertNotEquals(server, paddock.spawnServerPid(), "a new server runs the next spawn");
            assertEquals(SpawnMode.SERVER, paddock.spawnMode());
        }
    }

    @Test
    void killedServerEndsEverySandboxedAction(@TempDir Path dir) throws Exception {
        String max = Files.readAllLines(Path.of("/proc/sys/user/max_user_namespaces")).get(0).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        // A sandboxed action's pids are its namespace's: find its processes on the host by a marker.
        String marker = "600." + System.nanoTime();
        try (Paddock paddock = Paddock.create(SpawnMode.SERVER)) {
            List<Execution> running = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Path work = Files.createDirectory(dir.resolve("work-" + i));
                Sandbox sandbox = i % 2 == 0 ? Sandbox.hostReadOnly()
                        : Sandbox.newBuilder().network(Sandbox.Network.SHARED).build();
                running.add(paddock.start(Action.newBuilder("sh", "-c",
                        "sleep " + marker + " & (sleep " + marker + " &) ; echo $$ > ready; wait")
                        .directory(work).sandbox(sandbox).build()));
            }
            for (int i = 0; i < 4; i++) Procs.awaitPids(dir.resolve("work-" + i).resolve("ready"), 1, WAIT);
            List<Long> sleeps = Procs.awaitStartedAs("sleep " + marker, 8, WAIT);
            assertEquals(8, sleeps.size(), "two sleeps per action: " + sleeps);

            assertTrue(ProcessHandle.of(paddock.spawnServerPid()).orElseThrow().destroyForcibly(), "SIGKILL to the server");

            for (Execution e : running) {
                Outcome o = e.await(WAIT).orElseThrow(() -> new AssertionError("no outcome after the server died"));
                assertTrue(o.ownerLost(), "the outcome must say the action lost its owner: " + o);
                assertFalse(o.succeeded(), o.toString());
            }
            assertEquals(List.of(), Procs.survivors(sleeps, marker, Duration.ZERO),
                    "processes of the sandboxed actions survived the server");
            assertTrue(paddock.run(TRUE).succeeded(), "a new server runs the next spawn");
        }
    }

    @Test
    void fiftyThousandSpawnsAtConcurrencyEightWithoutGrowthInTheServer() throws Exception {
        try (Paddock paddock = Paddock.create(SpawnMode.SERVER);
                ExecutorService threads = Executors.newFixedThreadPool(8)) {
            assertEquals(List.of(), spawn(paddock, threads, 2_000)); // the server's tables reach their size
            long server = paddock.spawnServerPid();
            Footprint before = Footprint.of(server);
            List<String> failures = spawn(paddock, threads, 50_000);
            Footprint after = Footprint.of(server);
            assertEquals(List.of(), failures.stream().limit(5).toList(), failures.size() + " of 50000 spawns failed");
            assertEquals(server, paddock.spawnServerPid(), "one server served every spawn");
            // One socket per keeper: their number follows the concurrency (8), not the spawns.
            assertTrue(after.fds() <= before.fds() + 8,
                    "the server's open fds grew from " + before.fds() + " to " + after.fds());
            assertTrue(after.rssKb() <= before.rssKb() + 64,
                    "the server's resident memory grew from " + before.rssKb() + " kB to " + after.rssKb() + " kB");
        }
    }

    @Test
    void sharedNetworkActionsJoinOneNamespaceOthersGetTheirOwn() throws Exception {
        String max = Files.readAllLines(Path.of("/proc/sys/user/max_user_namespaces")).get(0).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        try (Paddock paddock = Paddock.create(SpawnMode.SERVER)) {
            Sandbox shared = Sandbox.newBuilder(Sandbox.Base.HOST_READ_ONLY).network(Sandbox.Network.SHARED).build();
            String first = netns(paddock, shared);
            String second = netns(paddock, shared);
            String own = netns(paddock, Sandbox.hostReadOnly());
            String host = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
            assertEquals(first, second, "two SHARED actions are in one network namespace");
            assertNotEquals(first, own, "a LOOPBACK action has its own");
            assertNotEquals(first, host, "the shared namespace is not the host's");
        }
    }

    @Test
    void everySandboxedActionGetsTheNamespacesItAsksForWhateverCameBefore() throws Exception {
        String max = Files.readAllLines(Path.of("/proc/sys/user/max_user_namespaces")).get(0).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        String hostNet = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        String hostPid = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        Sandbox own = Sandbox.hostReadOnly();
        Sandbox onHostNetwork = Sandbox.newBuilder(Sandbox.Base.HOST_READ_ONLY).network(Sandbox.Network.HOST).build();
        Sandbox asOtherUser = Sandbox.newBuilder(Sandbox.Base.HOST_READ_ONLY).uid(4321).gid(4321).build();
        String ourUid = Files.getAttribute(Path.of("/proc/self"), "unix:uid").toString();
        // One at a time, so one keeper serves them all: after each sandboxed one a spare sandbox
        // with its namespaces and ids waits, and must serve only a request that wants the same.
        List<Sandbox> order = new ArrayList<>(
                List.of(own, own, onHostNetwork, own, asOtherUser, own, onHostNetwork, onHostNetwork, own));
        order.add(3, null); // a plain action in between
        order.add(1, null);
        // Namespace inode numbers are reused once a namespace is gone, so each action's are compared
        // with the host's, which live on.
        try (Paddock paddock = Paddock.create(SpawnMode.SERVER)) {
            for (Sandbox sandbox : order) {
                List<String> ns = namespaces(paddock, sandbox);
                if (sandbox == null) {
                    assertEquals(List.of(hostNet, hostPid, ourUid), ns, "a plain action runs in the host's namespaces");
                    continue;
                }
                assertEquals(sandbox == asOtherUser ? "4321" : ourUid, ns.get(2), "the uid inside");
                assertNotEquals(hostPid, ns.get(1), "a sandbox has a pid namespace of its own");
                if (sandbox == onHostNetwork) assertEquals(hostNet, ns.get(0), "Network.HOST keeps the host's network namespace");
                else assertNotEquals(hostNet, ns.get(0), "a LOOPBACK action has a network namespace of its own");
            }
        }
    }

    @Test
    void aSpareSandboxBecomesTheNextActionsInitAndEndsWithItsPaddock() throws Exception {
        String max = Files.readAllLines(Path.of("/proc/sys/user/max_user_namespaces")).get(0).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        Action sandboxedTrue = Action.newBuilder("/bin/true").sandbox(Sandbox.hostReadOnly())
                .stdout(Stdio.discard()).stderr(Stdio.discard()).build();
        Action cat = Action.newBuilder("cat").sandbox(Sandbox.hostReadOnly())
                .stdin(Stdio.pipe()).stdout(Stdio.discard()).build();
        List<Long> spares;
        try (Paddock paddock = Paddock.create(SpawnMode.SERVER)) {
            assertTrue(paddock.run(sandboxedTrue).succeeded());
            long spare = awaitSpare(paddock.spawnServerPid(), 0);

            Execution e = paddock.start(cat);
            awaitChild(spare, "cat"); // the spare runs cat: it is cat's sandbox and init
            long next = awaitSpare(paddock.spawnServerPid(), spare); // and the keeper readied another
            e.stdin().close();
            Outcome o = e.await(WAIT).orElseThrow(() -> new AssertionError("cat did not end"));
            assertTrue(o.succeeded(), o.toString());
            spares = List.of(spare, next);
        }
        assertEquals(List.of(), Procs.survivors(spares, "paddock-launch", WAIT), "a spare sandbox outlived its paddock");
    }

    /**
     * A spare makes its namespaces but the user and pid ones itself. When the host refuses them
     * (strace makes every unshare(2) of the server's processes fail with ENOSPC, as a namespace
     * limit would), the spare tells the keeper so, and the keeper starts the next action itself:
     * every action runs in its own namespaces, and the keeper readies no such spare again.
     */
    @Test
    void aSpareThatCannotMakeItsNamespacesLeavesTheNextActionsToTheKeeper(@TempDir Path dir) throws Exception {
        String max = Files.readAllLines(Path.of("/proc/sys/user/max_user_namespaces")).get(0).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        HostTools.require("strace", "strace");
        String ourPidNs = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        Path trace = dir.resolve("unshare.trace");
        try (Paddock paddock = Paddock.create(SpawnMode.SERVER)) {
            assertTrue(paddock.run(TRUE).succeeded()); // the server and a keeper are up
            long server = paddock.spawnServerPid();
            List<String> command = new ArrayList<>(List.of(HostTools.find("strace").orElseThrow().toString(), "-f",
                    "-e", "trace=unshare", "-e", "inject=unshare:error=ENOSPC", "-o", trace.toString(),
                    "-p", Long.toString(server)));
            List<Long> keepers = children(server);
            for (long keeper : keepers) command.addAll(List.of("-p", Long.toString(keeper)));
            Process strace = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                awaitAttached(strace, 1 + keepers.size());
                for (int i = 0; i < 3; i++) {
                    List<String> ns = namespaces(paddock, Sandbox.hostReadOnly());
                    assertNotEquals(ourPidNs, ns.get(1), "action " + i + " has no pid namespace of its own");
                }
            } finally {
                strace.destroy(); // detaches, and writes out what it traced
                strace.waitFor();
            }
        }
        List<String> refused = Files.readAllLines(trace).stream().filter(l -> l.contains("(INJECTED)")).toList();
        assertEquals(1, refused.size(), "one spare was readied and refused its namespaces: " + refused);
    }

    /** Reads strace's messages until it says it has attached to count processes (bounded by its exit). */
    private static void awaitAttached(Process strace, int count) throws IOException {
        var messages = new BufferedReader(new InputStreamReader(strace.getErrorStream(), StandardCharsets.UTF_8));
        int attached = 0;
        StringBuilder seen = new StringBuilder();
        for (String line; attached < count && (line = messages.readLine()) != null; ) {
            seen.append(line).append('\n');
            if (line.endsWith(" attached")) attached++;
        }
        assertEquals(count, attached, "strace did not attach: " + seen);
        Thread.ofVirtual().start(() -> { // keep draining, so strace never blocks on a full pipe
            try {
                messages.transferTo(Writer.nullWriter());
            } catch (IOException ignored) {
                // strace ended
            }
        });
    }

    /**
     * A spare is readied only while the Paddock's spawns in flight leave a core idle: with one
     * more sandboxed action running than that, every keeper but the last has a spare. Each keeper
     * has made its choice once it is back in poll(2) for its next request, after its action started.
     */
    @Test
    void sparesOnlyWhileTheSpawnsInFlightLeaveACoreIdle() throws Exception {
        String max = Files.readAllLines(Path.of("/proc/sys/user/max_user_namespaces")).get(0).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        int withSpare = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
        Action upThenCat = Action.newBuilder("sh", "-c", "echo up; exec cat").sandbox(Sandbox.hostReadOnly())
                .stdin(Stdio.pipe()).stdout(Stdio.pipe()).build();
        try (Paddock paddock = Paddock.create(SpawnMode.SERVER)) {
            List<Execution> running = new ArrayList<>();
            for (int i = 0; i <= withSpare; i++) {
                Execution e = paddock.start(upThenCat);
                running.add(e);
                byte[] up = e.stdout().readNBytes(3);
                assertEquals("up\n", new String(up, StandardCharsets.UTF_8), "action " + i + " did not start");
            }
            List<Long> keepers = awaitIdleKeepers(paddock.spawnServerPid(), withSpare + 1);
            Map<Long, Long> parents = parents();
            long spares = parents.entrySet().stream()
                    .filter(p -> keepers.contains(p.getValue()) && !parents.containsValue(p.getKey())).count();
            assertEquals(withSpare, spares, "spare sandboxes with " + (withSpare + 1) + " actions in flight on "
                    + Runtime.getRuntime().availableProcessors() + " cores");
            for (Execution e : running) {
                e.stdin().close();
                Outcome o = e.await(WAIT).orElseThrow(() -> new AssertionError("cat did not end"));
                assertTrue(o.succeeded(), o.toString());
            }
        }
    }

    /**
     * The server's keepers, once there are count of them and each is back in poll(2) (x86_64: 7,
     * or ppoll: 271; aarch64 has only ppoll: 73), waiting for its next request (bounded).
     */
    private static List<Long> awaitIdleKeepers(long server, int count) throws Exception {
        AtomicReference<List<Long>> last = new AtomicReference<>(List.of()); // for the failure message
        return poll(() -> "no " + count + " idle keepers within " + WAIT + ": " + last.get(), () -> {
            List<Long> keepers = children(server);
            last.set(keepers);
            boolean idle = keepers.size() == count && keepers.stream().allMatch(k -> {
                try {
                    String call = Files.readString(Path.of("/proc/" + k + "/syscall")).split(" ")[0].trim();
                    return call.equals("7") || call.equals("271") || call.equals("73");
                } catch (IOException gone) {
                    return false;
                }
            });
            return idle ? keepers : null;
        });
    }

    /**
     * Polls /proc (bounded by WAIT) until probe finds what it looks for, and returns that; the
     * event waited for is a process appearing or reaching a state, which nothing signals.
     */
    private static <T> T poll(Supplier<String> failure, Callable<T> probe) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        for (;;) {
            T found = probe.call();
            if (found != null) return found;
            if (System.nanoTime() > deadline) throw new AssertionError(failure.get());
            Thread.sleep(5);
        }
    }

    /** The net and pid namespaces an action (sandboxed, or plain for null) finds itself in, and its uid. */
    private static List<String> namespaces(Paddock paddock, Sandbox sandbox) throws Exception {
        Action.Builder action = Action.newBuilder("sh", "-c", "readlink /proc/self/ns/net /proc/self/ns/pid; id -u")
                .stdout(Stdio.pipe());
        if (sandbox != null) action.sandbox(sandbox);
        Execution e = paddock.start(action.build());
        String out = new String(e.stdout().readAllBytes(), StandardCharsets.UTF_8);
        Outcome o = e.await();
        assertEquals(0, o.exitCode(), o + " output " + out);
        assertEquals(List.of(), o.degradations());
        return out.lines().toList();
    }

    /**
     * A spare sandbox of the server's keepers other than notThis: a keeper's child in a pid
     * namespace of its own that runs nothing yet and sleeps. A keeper readies one after it started a
     * sandboxed action; this waits for it (bounded).
     */
    private static long awaitSpare(long server, long notThis) throws Exception {
        String ourPidNs = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        return poll(() -> "no spare sandbox appeared within " + WAIT, () -> {
            Map<Long, Long> parents = parents();
            for (Map.Entry<Long, Long> p : parents.entrySet()) {
                long pid = p.getKey();
                boolean keepersChild = parents.getOrDefault(p.getValue(), -1L) == server;
                if (!keepersChild || pid == notThis || parents.containsValue(pid)) continue;
                try {
                    // Asleep (waiting for its request): not an init that wrote its outcome and is exiting.
                    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                    boolean asleep = stat.charAt(stat.lastIndexOf(')') + 2) == 'S';
                    if (asleep && !Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/pid")).toString().equals(ourPidNs)
                            && Procs.alive(pid, "paddock-launch")) return pid;
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
            return null;
        });
    }

    /** Waits (bounded) until pid has a child whose command line starts with command. */
    private static void awaitChild(long pid, String command) throws Exception {
        poll(() -> pid + " started no " + command + " within " + WAIT, () -> parents().entrySet().stream()
                .anyMatch(p -> p.getValue() == pid && Procs.alive(p.getKey(), command)) ? Boolean.TRUE : null);
    }

    /** The live children of pid. */
    private static List<Long> children(long pid) throws IOException {
        return parents().entrySet().stream().filter(p -> p.getValue() == pid).map(Map.Entry::getKey).toList();
    }

    /** Every live process's parent, by pid. */
    private static Map<Long, Long> parents() throws IOException {
        Map<Long, Long> parents = new HashMap<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                try {
                    String stat = Files.readString(entry.resolve("stat"));
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    parents.put(Long.parseLong(name), Long.parseLong(fields[1]));
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return parents;
    }

    /** The action's network namespace, after checking that nothing fell back. */
    private static String netns(Paddock paddock, Sandbox sandbox) throws Exception {
        Execution e = paddock.start(Action.newBuilder("readlink", "/proc/self/ns/net").sandbox(sandbox).stdout(Stdio.pipe()).build());
        String out = new String(e.stdout().readAllBytes(), StandardCharsets.UTF_8);
        Outcome o = e.await();
        assertEquals(0, o.exitCode(), o + " output " + out);
        assertEquals(List.of(), o.degradations());
        return out.lines().findFirst().orElseThrow();
    }

    private static List<String> spawn(Paddock paddock, ExecutorService threads, int count) throws Exception {
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < 8; t++)
            workers.add(threads.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < count; ) {
                    try {
                        Outcome o = paddock.run(TRUE);
                        if (!o.succeeded()) failures.add("spawn " + i + ": " + o);
                    } catch (IOException | RuntimeException e) {
                        failures.add("spawn " + i + ": " + e);
                    }
                }
                return null;
            }));
        for (Future<?> w : workers) w.get();
        return List.copyOf(failures);
    }

    /** What a process holds: open fds and resident memory. */
    record Footprint(long fds, long rssKb) {
        static Footprint of(long pid) throws IOException {
            long fds;
            try (Stream<Path> entries = Files.list(Path.of("/proc/" + pid + "/fd"))) {
                fds = entries.count();
            }
            long rss = Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                    .filter(l -> l.startsWith("VmRSS:")).map(l -> l.replaceAll("[^0-9]", ""))
                    .mapToLong(Long::parseLong).findFirst().orElseThrow();
            return new Footprint(fds, rss);
        }
    }
}
