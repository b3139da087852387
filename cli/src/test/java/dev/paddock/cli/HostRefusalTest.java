package dev.paddock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.paddock.testing.HostTools;
import dev.paddock.internal.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each way a host refuses part of the sandbox, made to happen for real: a user
 * namespace with user.max_user_namespaces=0, seccomp filters like container
 * runtimes', /proc masked by bind mounts, strace fault injection on the gid_map
 * open and on the kernel overlay mount, /dev/fuse absent, no Landlock. For
 * each: the doctor's verdict, the error in required mode (exit 125, cause and
 * remedy) and the degradation in auto mode, where under Landlock a write
 * outside the writable paths fails. The changes live in throwaway namespaces
 * and filters, so nothing on the host needs restoring.
 */
class HostRefusalTest {
    @TempDir
    static Path tools;

    static Path faultHost;

    /** The working directory (writable in the sandbox) and a directory anyone may write, outside it. */
    Path work;
    Path outside;

    @BeforeAll
    static void buildFaultHost() throws Exception {
        String max = Files.readAllLines(Path.of("/proc/sys/user/max_user_namespaces")).get(0).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces, so none can be refused on purpose");
        HostTools.require("gcc", "gcc");
        HostTools.require("strace", "strace");
        Path source = tools.resolve("fault-host.c");
        try (InputStream in = HostRefusalTest.class.getResourceAsStream("fault-host.c")) {
            Files.copy(in, source);
        }
        faultHost = tools.resolve("fault-host");
        Process gcc = new ProcessBuilder("gcc", "-O2", "-o", faultHost.toString(), source.toString())
                .redirectErrorStream(true).start();
        String out = new String(gcc.getInputStream().readAllBytes());
        assertEquals(0, gcc.waitFor(), "compiling fault-host: " + out);
    }

    @BeforeEach
    void directories(@TempDir Path dir) throws IOException {
        work = Files.createDirectories(dir.resolve("work"));
        outside = Files.createDirectories(dir.resolve("outside"));
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    /** The CLI started through a hostile host: fault-host's options, then a shell setup, then paddock. */
    private CliTest.Result paddock(List<String> host, String setup, String... args) throws Exception {
        List<String> prefix = new ArrayList<>();
        prefix.addAll(host);
        // paddock's cache under the test's own directory: a uid mapped inside a namespace may not own the usual one.
        prefix.addAll(List.of("env", "XDG_CACHE_HOME=" + work.resolveSibling("cache"), "sh", "-c",
                setup + " && exec \"$@\"", "sh"));
        return CliTest.paddockUnder(prefix, work, args);
    }

    private List<String> faultHost(String... options) {
        List<String> command = new ArrayList<>(List.of(faultHost.toString()));
        command.addAll(List.of(options));
        command.add("--");
        return command;
    }

    private static List<String> strace(String... filter) {
        List<String> command = new ArrayList<>(List.of("strace", "-f", "-qq", "-o", "/dev/null"));
        command.addAll(List.of(filter));
        command.add("--");
        return command;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> doctorProbe(List<String> host, String setup, String name) throws Exception {
        CliTest.Result r = paddock(host, setup, "doctor", "--json");
        Map<String, Object> report = Json.parseObject(r.stdout().trim());
        assertEquals(Boolean.TRUE.equals(report.get("healthy")) ? 0 : 1, r.exitCode(), r.stderr());
        for (Object p : (List<Object>) report.get("probes")) {
            Map<String, Object> probe = (Map<String, Object>) p;
            if (name.equals(probe.get("name"))) return probe;
        }
        throw new AssertionError("no probe " + name + " in " + r.stdout() + r.stderr());
    }

    private void assertUnavailable(Map<String, Object> probe, String inCause) {
        assertEquals("unavailable", probe.get("status"), probe.toString());
        assertTrue(String.valueOf(probe.get("cause")).contains(inCause), probe.toString());
        assertFalse(String.valueOf(probe.get("remedy")).isEmpty(), probe.toString());
    }

    private void assertRequiredFails(List<String> host, String setup, List<String> options, String... inMessage)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("run", "--sandbox=required"));
        args.addAll(options);
        args.addAll(List.of("--", "true"));
        CliTest.Result r = paddock(host, setup, args.toArray(String[]::new));
        assertEquals(125, r.exitCode(), r.stderr());
        for (String s : inMessage) assertTrue(r.stderr().contains(s), "'" + s + "' not in: " + r.stderr());
        assertTrue(r.stderr().contains("Cause: ") && r.stderr().contains("Remedy: "), r.stderr());
    }

    /** In auto mode the action runs under Landlock: it writes its working directory, nothing else. */
    private void assertLandlockFallback(List<String> host, String setup) throws Exception {
        Path json = work.resolveSibling("outcome.json");
        CliTest.Result r = paddock(host, setup, "run", "--sandbox=auto", "--json", json.toString(), "--", "sh", "-c",
                "touch ok && touch \"$TMPDIR/scratch\" && ! touch " + outside.resolve("escaped") + " && ! touch /usr/x");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(Files.exists(work.resolve("ok")), "the working directory was not writable");
        assertFalse(Files.exists(outside.resolve("escaped")), "a write outside the writable paths succeeded");
        assertTrue(r.stderr().contains("using landlock"), r.stderr());
        Map<String, Object> degradation = onlyDegradation(json);
        assertEquals("sandbox", degradation.get("step"));
        assertEquals("landlock", degradation.get("to"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> onlyDegradation(Path json) throws IOException {
        List<Object> all = (List<Object>) Json.parseObject(Files.readString(json)).get("degradations");
        assertEquals(1, all.size(), String.valueOf(all));
        return (Map<String, Object>) all.get(0);
    }

    private static final String SYSCTL_ZERO = "echo 0 > /proc/sys/user/max_user_namespaces";

    @Test
    void userNamespacesDisabledBySysctl() throws Exception {
        List<String> host = faultHost("--userns");
        assertUnavailable(doctorProbe(host, SYSCTL_ZERO, "user-namespaces"), "user.max_user_namespaces is 0");
        CliTest.Result doctor = paddock(host, SYSCTL_ZERO, "doctor", "--json");
        assertEquals(1, doctor.exitCode(), doctor.stderr());
        assertEquals("landlock", Json.parseObject(doctor.stdout().trim()).get("sandbox_auto"));
        assertRequiredFails(host, SYSCTL_ZERO, List.of(), "user namespaces", "user.max_user_namespaces");
        assertLandlockFallback(host, SYSCTL_ZERO);
    }

    @Test
    void seccompRefusesNamespaces() throws Exception {
        List<String> host = faultHost("--deny-namespaces");
        assertUnavailable(doctorProbe(host, "true", "user-namespaces"), "seccomp filter refuses creating namespaces");
        assertRequiredFails(host, "true", List.of(), "seccomp", "clone");
        assertLandlockFallback(host, "true");
    }

    @Test
    void seccompRefusesMount() throws Exception {
        List<String> host = faultHost("--deny-mount");
        Map<String, Object> userns = doctorProbe(host, "true", "user-namespaces");
        assertEquals("ok", userns.get("status"), "creating the namespace itself works: " + userns);
        assertUnavailable(doctorProbe(host, "true", "tmpfs"), "seccomp filter refuses mount");
        assertRequiredFails(host, "true", List.of(), "seccomp filter refuses mount");
        assertLandlockFallback(host, "true");
    }

    @Test
    void maskedProcIsBoundInsteadOfFresh() throws Exception {
        List<String> host = faultHost("--userns");
        String mask = "mount --bind /dev/null /proc/keys";
        assumeTrue(Files.exists(Path.of("/proc/keys")), "this kernel has no /proc/keys to mask (CONFIG_KEYS)");
        assertUnavailable(doctorProbe(host, mask, "procfs"), "/proc/keys");
        assertRequiredFails(host, mask, List.of(), "'proc'", "/proc/keys", "--sandbox=auto");
        Path json = work.resolveSibling("outcome.json");
        CliTest.Result r = paddock(host, mask, "run", "--sandbox=auto", "--json", json.toString(), "--", "sh", "-c",
                "test -r /proc/self/status && ! touch /usr/x");
        assertEquals(0, r.exitCode(), r.stderr());
        Map<String, Object> degradation = onlyDegradation(json);
        assertEquals("proc", degradation.get("step"));
        assertEquals("host-bind", degradation.get("to"));
        assertTrue(r.stderr().contains("sandbox degraded: proc /proc"), r.stderr());
    }

    /** strace refuses every mount whose source is "overlay": kernel overlayfs only. */
    private static final List<String> KERNEL_OVERLAY_REFUSED =
            strace("-P", "overlay", "-e", "trace=mount", "-e", "inject=mount:error=EINVAL");

    private List<String> overlayOption() throws IOException {
        Path layer = Files.createDirectories(work.resolveSibling("layer"));
        Files.writeString(layer.resolve("version"), "1\n");
        return List.of("--overlay", layer + ":/tmp/sdk");
    }

    @Test
    void kernelOverlayRefusedFallsBackToFuse() throws Exception {
        HostTools.require("fuse-overlayfs", "fuse-overlayfs");
        assertUnavailable(doctorProbe(KERNEL_OVERLAY_REFUSED, "true", "overlay-kernel"), "kernel overlayfs refused");
        assertRequiredFails(KERNEL_OVERLAY_REFUSED, "true", overlayOption(), "overlay-kernel", "--overlay-impl fuse");
        Path json = work.resolveSibling("outcome.json");
        List<String> args = new ArrayList<>(List.of("run", "--sandbox=auto", "--json", json.toString()));
        args.addAll(overlayOption());
        args.addAll(List.of("--", "cat", "/tmp/sdk/version"));
        CliTest.Result r = paddock(KERNEL_OVERLAY_REFUSED, "true", args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("1\n", r.stdout());
        Map<String, Object> degradation = onlyDegradation(json);
        assertEquals(List.of("overlay", "kernel", "fuse"),
                List.of(degradation.get("step"), degradation.get("from"), degradation.get("to")));
    }

    @Test
    void fuseDeviceAbsent() throws Exception {
        // /dev becomes a tmpfs with the usual devices bound back in, all but fuse.
        String hideFuse = "d=$(mktemp -d) && mount --rbind /dev \"$d\" && mount -t tmpfs -o mode=0755 tmpfs /dev && "
                + "for n in null zero full random urandom tty ptmx; do touch /dev/$n && mount --bind \"$d/$n\" /dev/$n;"
                + " done && mkdir /dev/pts /dev/shm && mount --rbind \"$d/pts\" /dev/pts && test ! -e /dev/fuse";
        List<String> host = new ArrayList<>(faultHost("--userns"));
        assertUnavailable(doctorProbe(host, hideFuse, "overlay-fuse"), "/dev/fuse does not exist");
        assertRequiredFails(host, hideFuse, concat(overlayOption(), "--overlay-impl", "fuse"), "/dev/fuse",
                "--device /dev/fuse");
        // With the kernel overlay refused too, auto mode ends at binds.
        host.addAll(KERNEL_OVERLAY_REFUSED);
        Path json = work.resolveSibling("outcome.json");
        List<String> args = new ArrayList<>(List.of("run", "--sandbox=auto", "--json", json.toString()));
        args.addAll(overlayOption());
        args.addAll(List.of("--", "cat", "/tmp/sdk/version"));
        CliTest.Result r = paddock(host, hideFuse, args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("1\n", r.stdout());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> all = (List<Map<String, Object>>) Json.parseObject(Files.readString(json))
                .get("degradations");
        assertEquals(List.of("kernel->fuse", "fuse->bind"),
                all.stream().map(d -> d.get("from") + "->" + d.get("to")).toList());
    }

    @Test
    void gidMapRefused() throws Exception {
        List<String> host = strace("-P", "/proc/self/gid_map", "-e", "trace=open,openat",
                "-e", "inject=open,openat:error=EPERM");
        assertUnavailable(doctorProbe(host, "true", "id-maps"), "gid_map");
        assertRequiredFails(host, "true", List.of(), "'gid-map'", "/proc/self/gid_map", "setgroups");
        assertLandlockFallback(host, "true");
    }

    @Test
    void withoutLandlockAutoModeFailsWithTheReason() throws Exception {
        List<String> host = faultHost("--deny-namespaces", "--deny-landlock");
        assertUnavailable(doctorProbe(host, "true", "landlock"), "no Landlock");
        CliTest.Result r = paddock(host, "true", "run", "--sandbox=auto", "--", "true");
        assertEquals(125, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains("the Landlock fallback is not possible"), r.stderr());
        assertTrue(r.stderr().contains("--sandbox=off"), r.stderr());
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(List.of(b));
        return all;
    }
}
