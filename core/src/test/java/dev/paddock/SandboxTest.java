package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.paddock.testing.HostTools;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host-readonly sandbox on a real kernel, as root and as an unprivileged user. */
class SandboxTest extends SandboxedTest {
    @Test
    void procSelfExeResolvesAndOnlyTheActionIsVisible() throws Exception {
        String out = output(Action.newBuilder("sh", "-c", "readlink /proc/self/exe; ls /proc | grep -c '^[0-9]'")
                .sandbox(Sandbox.hostReadOnly()));
        List<String> lines = out.lines().toList();
        assertTrue(lines.get(0).endsWith("/readlink"), out);
        assertTrue(Integer.parseInt(lines.get(1)) <= 4, "init, sh, ls, grep at most; got " + out);
    }

    /**
     * Under the spawn server a keeper makes the next sandbox's /proc and /dev ahead, while the
     * action before runs. The next action gets them only when it asks for the same: a /dev/shm
     * size or a process limit never carries over from one action to the next.
     */
    @Test
    void readyMadeProcAndDevFollowEachActionsOwnOptions() throws Exception {
        String probe = "df -k /dev/shm | tail -1 | awk '{print $2}'; cat /proc/sys/kernel/pid_max; "
                + "ls /proc | grep -c '^[0-9]'; ls /dev | tr '\\n' ' '";
        long big = 64L << 20, small = 8L << 20;
        List<String> first = output(Action.newBuilder("sh", "-c", probe)
                .sandbox(Sandbox.newBuilder().tmpfsBytes(big).build())).lines().toList();
        List<String> again = output(Action.newBuilder("sh", "-c", probe)
                .sandbox(Sandbox.newBuilder().tmpfsBytes(big).build())).lines().toList();
        List<String> smaller = output(Action.newBuilder("sh", "-c", probe)
                .sandbox(Sandbox.newBuilder().tmpfsBytes(small).build())).lines().toList();
        List<String> limited = output(Action.newBuilder("sh", "-c", probe)
                .sandbox(Sandbox.newBuilder().tmpfsBytes(big).build())
                .limits(Limits.newBuilder().processes(500).build())).lines().toList();
        List<String> after = output(Action.newBuilder("sh", "-c", probe)
                .sandbox(Sandbox.newBuilder().tmpfsBytes(big).build())).lines().toList();
        assertEquals(List.of("65536", "65536", "8192", "65536", "65536"),
                List.of(first.get(0), again.get(0), smaller.get(0), limited.get(0), after.get(0)), "/dev/shm sizes");
        String defaultPidMax = first.get(1);
        // 501 where each pid namespace has its own pid_max (Linux 6.14+); older kernels keep the host's.
        assertTrue(limited.get(1).equals("501") || limited.get(1).equals(defaultPidMax), "pid_max " + limited);
        assertEquals(List.of(defaultPidMax, defaultPidMax, defaultPidMax),
                List.of(again.get(1), smaller.get(1), after.get(1)), "pid_max of the actions without a limit");
        for (List<String> run : List.of(first, again, smaller, limited, after)) {
            assertTrue(Integer.parseInt(run.get(2)) <= 5, "init, sh, ls, grep at most in /proc; got " + run);
            assertEquals(first.get(3), run.get(3), "/dev");
        }
        for (String entry : List.of("null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm", "fd",
                "stdin", "stdout", "stderr", "core"))
            assertTrue(List.of(first.get(3).split(" ")).contains(entry), entry + " in /dev: " + first.get(3));
    }

    @Test
    void hostIsReadOnlyAndSandboxTmpIsPrivate(@TempDir Path work) throws Exception {
        String marker = "paddock-sandbox-" + ProcessHandle.current().pid();
        output(Action.newBuilder("sh", "-c", "touch /tmp/" + marker + " && ! touch /usr/" + marker
                + " 2>/dev/null && echo written > result").directory(work).sandbox(Sandbox.hostReadOnly()));
        assertFalse(Files.exists(Path.of("/tmp", marker)), "the sandbox's /tmp reached the host");
        assertFalse(Files.exists(Path.of("/usr", marker)));
        assertEquals("written\n", Files.readString(work.resolve("result")), "the working directory is writable");
    }

    @Test
    void hostnameAndDevices() throws Exception {
        String out = output(Action.newBuilder("sh", "-c",
                "hostname; echo x > /dev/null; head -c 16 /dev/urandom | wc -c; touch /dev/shm/x && echo shm; "
                        + "echo in | cat /dev/fd/0")
                .stdin(Stdio.pipe())
                .sandbox(Sandbox.newBuilder().hostname("paddock-box").build()));
        assertEquals(List.of("paddock-box", "16", "shm", "in"), out.lines().toList());
    }

    @Test
    void noNetworkUnlessAsked() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String probe = "exec 3<>/dev/tcp/127.0.0.1/" + listener.getLocalPort();
            Outcome isolated = paddock.run(Action.newBuilder("bash", "-c", probe).stderr(Stdio.discard())
                    .sandbox(Sandbox.hostReadOnly()).build());
            assertTrue(isolated.exitCode() != 0, "reached the host's loopback from a network-less sandbox");
            Outcome shared = paddock.run(Action.newBuilder("bash", "-c", probe)
                    .sandbox(Sandbox.newBuilder().network(Sandbox.Network.HOST).build()).build());
            assertEquals(0, shared.exitCode(), "--network host could not reach the host's loopback");
        }
    }

    @Test
    void timeoutKillsEverythingInTheSandbox() throws Exception {
        Outcome o = paddock.run(Action.newBuilder("sh", "-c", "setsid sleep 600 & sleep 600")
                .timeout(Duration.ofMillis(300)).sandbox(Sandbox.hostReadOnly()).build());
        assertEquals(124, o.exitCode());
    }

    @Test
    void cancelReachesTheActionThroughInit(@TempDir Path work) throws Exception {
        Execution e = paddock.start(Action.newBuilder("sh", "-c",
                "trap 'echo term > trapped; exit 7' TERM; sleep 600 & echo $$ > ready; wait")
                .directory(work).sandbox(Sandbox.hostReadOnly()).build());
        Procs.awaitPids(work.resolve("ready"), 1, Duration.ofSeconds(20));
        e.cancel();
        Outcome o = e.await(Duration.ofSeconds(20)).orElseThrow(() -> new AssertionError("no outcome after cancel"));
        assertEquals(7, o.exitCode(), "the action got SIGTERM first and could clean up: " + o);
        assertEquals("SIGTERM", o.cancelledBy().orElseThrow());
        assertEquals("term\n", Files.readString(work.resolve("trapped")));
    }

    @Test
    void cancelRightAfterStartIsNotLost() throws Exception {
        // Here the cancel may also come while init is still setting the sandbox up.
        ContainmentTest.cancelRightAfterStart(Action.newBuilder("sleep", "600").sandbox(Sandbox.hostReadOnly()));
    }

    @Test
    void actionsSignalAndStatusComeThroughInit() throws Exception {
        Outcome killed = paddock.run(Action.newBuilder("sh", "-c", "kill -9 $$").sandbox(Sandbox.hostReadOnly()).build());
        assertEquals(137, killed.exitCode());
        assertEquals("SIGKILL", killed.signal().orElseThrow());
        Outcome missing = paddock.run(Action.newBuilder("paddock-no-such-command").sandbox(Sandbox.hostReadOnly()).build());
        assertEquals(127, missing.exitCode());
        assertTrue(missing.setupFailure().orElseThrow().isNotFound());
    }

    @Test
    void doubleForkedChildrenLeaveNoZombies() throws Exception {
        String out = output(Action.newBuilder("sh", "-c",
                "i=0; while [ $i -lt 100 ]; do (true &) ; i=$((i+1)); done; "
                        // init reaps the orphans as they exit: poll, bounded, until none is a zombie
                        + "for t in $(seq 200); do n=$(grep -l '^State:.Z' /proc/[0-9]*/status 2>/dev/null | wc -l); "
                        + "[ \"$n\" = 0 ] && break; sleep 0.05; done; echo $n")
                .sandbox(Sandbox.hostReadOnly()));
        assertEquals("0", out.trim());
    }

    @Test
    void uidInsideAPidNamespace() throws Exception {
        String out = output(Action.newBuilder("sh", "-c", "id -u; id -g; echo $$; tr '\\0' ' ' < /proc/1/cmdline")
                .sandbox(Sandbox.newBuilder().uid(0).gid(0).build()));
        List<String> lines = out.lines().toList();
        assertEquals("0", lines.get(0), out);
        assertEquals("0", lines.get(1), out);
        assertTrue(Integer.parseInt(lines.get(2)) > 1, "the action runs under paddock's init, not as pid 1: " + out);
        assertTrue(lines.get(3).contains("paddock-launch"), "pid 1 is paddock's init: " + out);
        String other = output(Action.newBuilder("id", "-u").sandbox(Sandbox.newBuilder().uid(4321).build()));
        assertEquals("4321", other.trim());
    }

    /**
     * lo is up with Network.LOOPBACK and down with NONE, also in a sequence of both: a keeper's
     * spare brings lo up ahead when the action before wanted it up, and an action that wants it
     * down gets a sandbox of its own.
     */
    @Test
    void networkNoneHasNoLoopbackAndLoopbackHasIt() throws Exception {
        HostTools.require("python3", "python3");
        String bind = "import socket\ntry:\n    s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
                + "    socket.create_connection(s.getsockname(), timeout=5); print('bound')\n"
                + "except OSError as e:\n    print('refused')";
        List<String> got = new java.util.ArrayList<>();
        for (Sandbox.Network network : List.of(Sandbox.Network.NONE, Sandbox.Network.LOOPBACK,
                Sandbox.Network.LOOPBACK, Sandbox.Network.NONE, Sandbox.Network.LOOPBACK, Sandbox.Network.NONE))
            got.add(output(Action.newBuilder("python3", "-c", bind)
                    .sandbox(Sandbox.newBuilder().network(network).build())).strip());
        assertEquals(List.of("refused", "bound", "bound", "refused", "bound", "refused"), got);
    }

    @Test
    void hermeticShowsOnlyDeclaredPaths(@TempDir Path work, @TempDir Path undeclared, @TempDir Path toolchain)
            throws Exception {
        Files.writeString(toolchain.resolve("tool"), "tool\n");
        String out = output(Action.newBuilder("sh", "-c", "test ! -e " + undeclared + " && echo hidden; cat "
                        + toolchain.resolve("tool") + "; ! touch " + toolchain.resolve("x") + " 2>/dev/null && echo ro;"
                        + " touch input-root-writable && echo rw; ls /")
                .directory(work)
                .sandbox(Sandbox.newBuilder(Sandbox.Base.HERMETIC).readOnly(toolchain).build()));
        List<String> lines = out.lines().toList();
        assertEquals(List.of("hidden", "tool", "ro", "rw"), lines.subList(0, 4), out);
        List<String> root = lines.subList(4, lines.size());
        for (String entry : root)
            assertTrue(List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "proc", "dev", "tmp")
                    .contains(entry) || work.startsWith("/" + entry) || toolchain.startsWith("/" + entry),
                    "undeclared host path /" + entry + " in a hermetic sandbox: " + root);
    }

    @Test
    void anInputRootIsRootWithOnlyWhatIsDeclared(@TempDir Path work) throws Exception {
        Path root = Files.createDirectories(work.resolve("root"));
        Files.createDirectories(root.resolve("src"));
        Files.writeString(root.resolve("src/in.txt"), "input\n");
        Path scratch = Files.createDirectories(work.resolve("scratch"));
        Sandbox sandbox = Sandbox.inputRoot(root).systemDirectories().temporaryDirectory(scratch).build();
        String out = output(Action.newBuilder("sh", "-c", "pwd; cat in.txt; echo out > out.txt; echo t > /tmp/t;"
                        + " test -e " + work + " && echo HOST-VISIBLE; readlink /proc/self/exe")
                .directory(root.resolve("src")).sandbox(sandbox));
        assertEquals(List.of("/src", "input", "/usr/bin/readlink"), out.lines().toList());
        assertEquals("out\n", Files.readString(root.resolve("src/out.txt")));
        assertEquals("t\n", Files.readString(scratch.resolve("t")));
    }

    /** A caller removes mount points by this list (the runner does): it must name exactly what the launcher made. */
    @Test
    void mountPointsNameWhatTheSandboxMakesInAnEmptyInputRoot(@TempDir Path work) throws Exception {
        Path root = Files.createDirectories(work.resolve("root"));
        Path scratch = Files.createDirectories(work.resolve("scratch"));
        Sandbox sandbox = Sandbox.inputRoot(root).systemDirectories().temporaryDirectory(scratch).build();
        output(Action.newBuilder("true").directory(root).sandbox(sandbox));
        Set<String> made;
        try (Stream<Path> entries = Files.list(root)) {
            made = entries.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
        Set<String> named = sandbox.mountPoints().stream().map(p -> p.getName(0).toString()).collect(Collectors.toSet());
        assertEquals(named, made);
    }

    @Test
    void anInputRootMustHoldTheWorkingDirectory(@TempDir Path work) {
        Sandbox sandbox = Sandbox.inputRoot(work.resolve("root")).build();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Action.newBuilder("true").directory(work).sandbox(sandbox).build());
        assertTrue(e.getMessage().contains("is not inside the sandbox's input root"), e.getMessage());
    }

    @Test
    void tmpfsMountsAreBounded() throws Exception {
        String sizes = output(Action.newBuilder("df", "-B1", "--output=size", "/tmp", "/dev/shm")
                .sandbox(Sandbox.hostReadOnly()));
        assertEquals(List.of(Long.toString(Sandbox.DEFAULT_TMPFS_BYTES), Long.toString(Sandbox.DEFAULT_TMPFS_BYTES)),
                sizes.lines().skip(1).map(String::strip).toList());
        // 8 MiB each: 16 MiB does not fit in /tmp, nor in /dev/shm.
        String filled = output(Action.newBuilder("sh", "-c", "for d in /tmp /dev/shm; do"
                        + " dd if=/dev/zero of=$d/fill bs=1M count=16 2>/dev/null && echo $d FITS || echo $d FULL; done")
                .sandbox(Sandbox.newBuilder().tmpfsBytes(8 << 20).build()));
        assertEquals("/tmp FULL\n/dev/shm FULL\n", filled);
    }
}
