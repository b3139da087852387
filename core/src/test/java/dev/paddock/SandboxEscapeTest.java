package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.paddock.internal.NativeBinaries;
import dev.paddock.testing.HostTools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ways out of the sandbox that must stay shut. Each asserts on the host's side too. */
class SandboxEscapeTest extends SandboxedTest {
    @TempDir
    Path work;

    @TempDir
    Path outside;

    private Path secret;

    @BeforeEach
    void plantSecret() throws Exception {
        secret = Files.writeString(outside.resolve("secret"), "host\n");
    }

    private static Outcome run(Action.Builder action, StringBuilder out) throws Exception {
        Execution e = paddock.start(action.stdout(Stdio.pipe()).stderr(Stdio.discard()).build());
        out.append(new String(e.stdout().readAllBytes(), StandardCharsets.UTF_8));
        return e.await();
    }

    @Test
    void symlinksInWritableDirectoriesDoNotReachTheHost() throws Exception {
        Files.createSymbolicLink(work.resolve("planted"), secret);
        String script = "ln -s " + secret + " made; "
                + "echo pwned > planted; echo pwned > made; echo pwned >> " + secret + "; "
                + "cat planted made 2>/dev/null; true";
        StringBuilder hostRo = new StringBuilder();
        Outcome o = run(Action.newBuilder("sh", "-c", script).directory(work).sandbox(Sandbox.hostReadOnly()), hostRo);
        assertEquals(0, o.exitCode(), o.toString());
        assertEquals("host\n", Files.readString(secret), "a write through a symlink reached the host");
        StringBuilder hermetic = new StringBuilder();
        o = run(Action.newBuilder("sh", "-c", script).directory(work).sandbox(Sandbox.hermetic()), hermetic);
        assertEquals(0, o.exitCode(), o.toString());
        assertEquals("", hermetic.toString(), "an undeclared host file was readable through a symlink");
        assertEquals("host\n", Files.readString(secret), "a write through a symlink reached the host");
        // The links point out of the temporary directory; remove them before it is cleaned up.
        Files.delete(work.resolve("planted"));
        Files.delete(work.resolve("made"));
    }

    /**
     * The planted-link sequence: an action leaves links in its writable working directory, one
     * absolute through the host root the launcher sees during setup, one relative. The next
     * sandbox declares binds whose destination and source pass through them. Neither may make a
     * directory on the host or write there: the setup fails, naming the link.
     */
    @Test
    void linksPlantedByAnEarlierActionDoNotRedirectTheNextBinds() throws Exception {
        Path source = Files.createDirectory(outside.resolve("source"));
        Path victim = Files.createDirectory(outside.resolve("victim"));
        String plant = "ln -s /oldroot" + victim + " through-root; ln -s ../" + outside.getFileName() + "/victim relative";
        Outcome o = run(Action.newBuilder("sh", "-c", plant).directory(work).sandbox(Sandbox.hostReadOnly()),
                new StringBuilder());
        assertEquals(0, o.exitCode(), o.toString());
        Sandbox destinationThroughLink = Sandbox.newBuilder(Sandbox.Base.HOST_READ_ONLY)
                .readOnly(source, work.resolve("through-root/made")).build();
        Sandbox sourceThroughLink = Sandbox.newBuilder(Sandbox.Base.HOST_READ_ONLY)
                .writable(work.resolve("relative"), work.resolve("out")).build();
        for (Sandbox sandbox : List.of(destinationThroughLink, sourceThroughLink)) {
            o = run(Action.newBuilder("sh", "-c", "echo pwned > out/file").directory(work).sandbox(sandbox),
                    new StringBuilder());
            SetupFailure failure = o.setupFailure().orElseThrow(() -> new AssertionError("the action ran"));
            assertEquals("ELOOP", failure.errno().orElseThrow(), failure.describe());
            assertTrue(failure.describe().contains("is a symbolic link"), failure.describe());
            try (var left = Files.list(victim)) {
                assertEquals(List.of(), left.toList(), "a bind went through a planted link");
            }
        }
        Files.delete(work.resolve("through-root"));
        Files.delete(work.resolve("relative"));
    }

    /**
     * A listener where host services keep their sockets (/var/tmp, which anyone may write to, and
     * /run as root): reachable from the host, unreachable from a host-root sandbox, reachable again
     * when the sandbox binds that socket explicitly.
     */
    @Test
    void hostUnixSocketsAreUnreachableUnlessBound() throws Exception {
        HostTools.require("python3", "python3");
        List<Path> places = new java.util.ArrayList<>(List.of(Path.of("/var/tmp")));
        if ((int) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0) places.add(Path.of("/run"));
        for (Path dir : places) {
            Path socket = dir.resolve("paddock-test-" + java.util.UUID.randomUUID() + ".sock");
            try (java.nio.channels.ServerSocketChannel server =
                         java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
                server.bind(java.net.UnixDomainSocketAddress.of(socket));
                String probe = "import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect('" + socket
                        + "'); print('connected')\nexcept OSError as e:\n    print('refused', e.errno)";
                StringBuilder host = new StringBuilder();
                run(Action.newBuilder("python3", "-c", probe), host);
                assertEquals("connected\n", host.toString(), "the control: the listener works from the host");
                StringBuilder hidden = new StringBuilder();
                run(Action.newBuilder("python3", "-c", probe).sandbox(Sandbox.hostReadOnly()), hidden);
                assertTrue(hidden.toString().startsWith("refused"), "a host socket in " + dir + " was reachable: "
                        + hidden);
                StringBuilder bound = new StringBuilder();
                run(Action.newBuilder("python3", "-c", probe).sandbox(Sandbox.newBuilder().readOnly(socket).build()),
                        bound);
                assertEquals("connected\n", bound.toString(), "a socket bound explicitly is reachable");
            } finally {
                Files.deleteIfExists(socket);
            }
        }
    }

    /**
     * The library's sandboxes run under paddock's default seccomp filter: the caller's session
     * keyring and nested user namespaces are refused; with the filter turned off both work, so the
     * refusal is the filter's doing.
     */
    @Test
    void theDefaultSeccompFilterRefusesKeyringsAndNestedNamespaces() throws Exception {
        HostTools.require("python3", "python3");
        String probe = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                + "r = libc.syscall(250, 0, -3, 0)\nprint('keyctl', 'refused' if r < 0 else 'allowed', ctypes.get_errno())\n"
                + "r = libc.syscall(272, 0x10000000)\nprint('unshare', 'refused' if r < 0 else 'allowed', ctypes.get_errno())";
        StringBuilder filtered = new StringBuilder();
        Outcome o = run(Action.newBuilder("python3", "-c", probe).sandbox(Sandbox.hostReadOnly()), filtered);
        assertEquals(0, o.exitCode(), o + " " + filtered);
        assertEquals("keyctl refused 1\nunshare refused 1\n", filtered.toString());
        StringBuilder unfiltered = new StringBuilder();
        o = run(Action.newBuilder("python3", "-c", probe)
                .sandbox(Sandbox.newBuilder().defaultSeccompFilter(false).build()), unfiltered);
        assertEquals(0, o.exitCode(), o + " " + unfiltered);
        assertTrue(unfiltered.toString().startsWith("keyctl allowed"), unfiltered.toString());
        assertTrue(unfiltered.toString().contains("unshare allowed"), unfiltered.toString());
    }

    @Test
    void procOneRootIsTheSandboxRoot() throws Exception {
        StringBuilder out = new StringBuilder();
        Outcome o = run(Action.newBuilder("sh", "-c", "cat /proc/1/root" + secret + " 2>/dev/null; "
                        + "echo pwned > /proc/1/root/etc/paddock-escape 2>/dev/null; "
                        + "echo pwned > /proc/1/cwd/paddock-escape 2>/dev/null; "
                        + "readlink /proc/1/root 2>/dev/null || echo denied; true")
                .directory(work).sandbox(Sandbox.hermetic()), out);
        assertEquals(0, o.exitCode(), o.toString());
        // pid 1 is paddock's init: inside the sandbox's root, and out of reach of the capability-less action.
        assertTrue(List.of("/\n", "denied\n").contains(out.toString()), "pid 1's root is the host's: " + out);
        assertTrue(Files.notExists(Path.of("/etc/paddock-escape")), "wrote to the host's /etc");
        assertTrue(Files.notExists(Path.of("/paddock-escape")), "wrote to the host's /");
    }

    @Test
    void hostProcessesCannotBeSignalledOrTraced() throws Exception {
        Process host = new ProcessBuilder("sleep", "600").start();
        try {
            long pid = host.pid();
            HostTools.require("python3", "python3");
            String probe = "import ctypes, os, signal\n"
                    + "libc = ctypes.CDLL(None, use_errno=True)\n"
                    + "r = libc.ptrace(16, " + pid + ", 0, 0)\n" // PTRACE_ATTACH
                    + "print('ptrace', r, ctypes.get_errno())\n"
                    + "try:\n    os.kill(" + pid + ", signal.SIGKILL); print('kill ok')\n"
                    + "except OSError as e:\n    print('kill', e.errno)\n"
                    + "try:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError as e:\n    print('kill-all', e.errno)\n";
            StringBuilder out = new StringBuilder();
            // kill(-1) also kills the probe itself: its status is SIGKILL, and it must be the only victim.
            Outcome o = run(Action.newBuilder("python3", "-c", probe).sandbox(Sandbox.hostReadOnly()), out);
            assertTrue(out.toString().startsWith("ptrace -1 3\nkill 3\n"), "ESRCH expected: " + out + " " + o);
            assertTrue(host.isAlive(), "a host process was killed from inside the sandbox");
        } finally {
            host.destroyForcibly().waitFor();
        }
    }

    /**
     * TIOCSTI pushes input into a terminal as if typed; an action that could use it on its
     * caller's terminal could run commands as the caller. The action has its own session, so the
     * terminal is not its controlling one and the ioctl is refused. The control run, without
     * paddock, shows the ioctl works on this kernel, so the refusal is paddock's doing.
     */
    @Test
    void tiocstiIntoTheCallersTerminalIsRefused() throws Exception {
        HostTools.require("python3", "python3");
        String probe = "python3 -c \"import fcntl, termios\ntry:\n    fcntl.ioctl(0, termios.TIOCSTI, b'#')\n"
                + "    print('INJECTED')\nexcept OSError as e:\n    print('REFUSED', e.errno)\"";
        String control = underTerminal(probe);
        assumeTrue(control.contains("INJECTED"),
                "the kernel refuses TIOCSTI to everyone (dev.tty.legacy_tiocsti=0): " + control);
        String launcher = NativeBinaries.path(NativeBinaries.LAUNCHER).toString();
        String sandboxed = underTerminal(launcher + " --unshare-all --ro-bind / / --proc /proc --dev /dev -- " + probe);
        assertTrue(sandboxed.contains("REFUSED 1"), "TIOCSTI was not refused with EPERM: " + sandboxed);
    }

    /** Runs a shell command with a fresh pseudo-terminal as its controlling terminal (util-linux script). */
    private static String underTerminal(String command) throws Exception {
        Process p = new ProcessBuilder("script", "-qec", command, "/dev/null").redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
