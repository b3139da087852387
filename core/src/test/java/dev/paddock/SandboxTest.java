package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host-readonly sandbox on a real kernel, as root and as an unprivileged user. */
class SandboxTest extends PaddockTest {
    @BeforeAll
    static void userNamespacesAvailable() throws IOException {
        String max = Files.readString(Path.of("/proc/sys/user/max_user_namespaces")).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
    }

    static String output(Action.Builder action) throws Exception {
        Execution e = paddock.start(action.stdout(Stdio.pipe()).build());
        String out = new String(e.stdout().readAllBytes(), StandardCharsets.UTF_8);
        Outcome o = e.await();
        assertEquals(0, o.exitCode(), "outcome " + o + " output " + out);
        return out;
    }

    @Test
    void procSelfExeResolvesAndOnlyTheActionIsVisible() throws Exception {
        String out = output(Action.newBuilder("sh", "-c", "readlink /proc/self/exe; ls /proc | grep -c '^[0-9]'")
                .sandbox(Sandbox.hostReadOnly()));
        List<String> lines = out.lines().toList();
        assertTrue(lines.get(0).endsWith("/readlink"), out);
        assertTrue(Integer.parseInt(lines.get(1)) <= 4, "init, sh, ls, grep at most; got " + out);
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
}
