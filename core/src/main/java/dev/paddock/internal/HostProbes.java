package dev.paddock.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.paddock.Action;
import dev.paddock.Execution;
import dev.paddock.Paddock;
import dev.paddock.Pty;
import dev.paddock.PtySize;
import dev.paddock.internal.StatusRecord.Field;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What this host lets paddock do, found by trying each capability in a
 * throwaway launcher run (or by reading the kernel's own answer), never by
 * guessing from versions.
 */
public final class HostProbes {
    private HostProbes() {}

    public enum Status { OK, DEGRADED, UNAVAILABLE }

    /**
     * One capability's verdict.
     *
     * @param name     what was probed ("user-namespaces")
     * @param status   ok, degraded (works with less), or unavailable
     * @param cause    why, in a sentence (empty when ok)
     * @param evidence what was observed: the call and errno, the sysctl or file read
     * @param remedy   what to do about it (empty when ok)
     * @param features the paddock features that depend on it
     */
    public record Probe(String name, Status status, String cause, String evidence, String remedy, List<String> features) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("status", status.name().toLowerCase());
            m.put("cause", cause);
            m.put("evidence", evidence);
            m.put("remedy", remedy);
            m.put("features", features);
            return m;
        }
    }

    /** Every probe, in order; each runs in its own throwaway process where one is needed. */
    public static List<Probe> all(Paddock paddock) throws IOException {
        Path scratch = Files.createTempDirectory("paddock-doctor");
        try {
            List<Probe> probes = new ArrayList<>();
            probes.add(userNamespaces());
            probes.add(launched("id-maps", List.of("--unshare-user", "--uid", "0", "--gid", "0", "--ro-bind", "/", "/"),
                    "writing uid_map, setgroups and gid_map", List.of("sandbox", "--uid/--gid")));
            probes.add(launched("procfs", List.of("--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--proc",
                    "/proc"), "mounting a fresh procfs for a new pid namespace", List.of("sandbox /proc")));
            probes.add(launched("tmpfs", List.of("--unshare-user", "--ro-bind", "/", "/", "--tmpfs", "/tmp"),
                    "mounting a tmpfs in a user namespace", List.of("sandbox /tmp", "--tmpfs")));
            probes.add(launched("pid-net-namespaces", List.of("--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc",
                    "--dev", "/dev"), "new pid and network namespaces with loopback up",
                    List.of("sandbox", "--network none|loopback")));
            probes.add(launched("seccomp-filter", List.of("--unshare-all", "--ro-bind", "/", "/", "--default-seccomp"),
                    "paddock's default seccomp filter (no keyrings, nested namespaces, mounts, io_uring, bpf, "
                            + "perf_event_open or TIOCSTI inside)", List.of("sandbox")));
            Path layer = Files.createDirectories(scratch.resolve("layer"));
            List<String> overlay = List.of("--unshare-user", "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--overlay-src",
                    layer.toString(), "--tmp-overlay", "/tmp/overlay");
            probes.add(launched("overlay-kernel", concat(overlay, "--overlay-impl", "kernel"),
                    "kernel overlayfs in a user namespace (Linux 5.11 or later)", List.of("--overlay (kernel)")));
            probes.add(launched("overlay-fuse", concat(overlay, "--overlay-impl", "fuse"),
                    "fuse-overlayfs in a user namespace", List.of("--overlay (fuse fallback)")));
            probes.add(processLimit());
            probes.add(cgroups());
            probes.add(landlock());
            probes.add(seccomp());
            probes.add(pty(paddock));
            return probes;
        } finally {
            try (var tree = Files.walk(scratch)) {
                for (Path p : tree.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(List.of(b));
        return all;
    }

    /** The launcher's verdict on a set of sandbox options, with /bin/true as the action. */
    private record Run(boolean ok, Optional<Map<String, Object>> failure) {}

    private static Run launch(List<String> options) throws IOException {
        List<String> argv = new ArrayList<>();
        argv.add(NativeBinaries.path(NativeBinaries.LAUNCHER).toString());
        // required: a probe must see the refusal, not a fallback.
        argv.addAll(List.of(Launcher.STATUS_FD_OPTION, "2", "--sandbox-mode", "required"));
        argv.addAll(options);
        argv.addAll(List.of("--", "/bin/true"));
        Process p = new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().close();
        String status = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            int rc = p.waitFor();
            Optional<Map<String, Object>> failure = status.lines().filter(l -> l.startsWith("{"))
                    .map(Json::parseObject).filter(r -> StatusRecord.of(r).filter(t -> t == StatusRecord.SETUP_FAILED
                            || t == StatusRecord.EXEC_FAILED).isPresent()).findFirst();
            return new Run(rc == 0 && failure.isEmpty(), failure);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while probing", e);
        }
    }

    private static String describe(Map<String, Object> failure) {
        return Field.STEP.in(failure) + ": " + Field.SYSCALL.in(failure) + " "
                + Optional.ofNullable(Field.PATH.in(failure)).orElse("")
                + " -> " + Field.ERRNO.in(failure) + " (" + Field.MESSAGE.in(failure) + ")";
    }

    private static Probe launched(String name, List<String> options, String what, List<String> features)
            throws IOException {
        Run run = launch(options);
        if (run.ok()) return new Probe(name, Status.OK, "", what + ": works", "", features);
        return refused(name, what, run, List.of(), features);
    }

    /** A probe the launcher refused: the cause and remedy are the launcher's own explanation. */
    private static Probe refused(String name, String what, Run run, List<String> evidence, List<String> features) {
        Map<String, Object> f = run.failure().orElse(Map.of("step", "launcher", "syscall", "?", "errno", "?",
                "message", "no status record"));
        List<String> seen = new ArrayList<>(evidence);
        seen.add(describe(f));
        String cause = Field.CAUSE.in(f) instanceof String c ? c : what + " was refused";
        String remedy = Field.REMEDY.in(f) instanceof String r ? r
                : "see docs/diagnostics.md for the step '" + Field.STEP.in(f) + "'";
        return new Probe(name, Status.UNAVAILABLE, cause, String.join(", ", seen), remedy, features);
    }

    /** A /proc or /sys file's text, or null. (Files.readString trusts the reported size, 0 or 4096 here.) */
    private static String read(Path file) {
        try (var in = Files.newInputStream(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return null;
        }
    }

    /** Fewer user namespaces than this limits a build's parallel sandboxed actions. */
    private static final int MANY_SANDBOXES = 64;

    private static Probe userNamespaces() throws IOException {
        List<String> evidence = new ArrayList<>();
        String max = read(Path.of("/proc/sys/user/max_user_namespaces"));
        evidence.add("user.max_user_namespaces=" + max);
        String debian = read(Path.of("/proc/sys/kernel/unprivileged_userns_clone"));
        if (debian != null) evidence.add("kernel.unprivileged_userns_clone=" + debian);
        String apparmor = read(Path.of("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"));
        if (apparmor != null) evidence.add("kernel.apparmor_restrict_unprivileged_userns=" + apparmor);
        List<String> features = List.of("sandbox", "overlays", "--hermetic");
        Run run = launch(List.of("--unshare-user", "--ro-bind", "/", "/"));
        // Only the clone is this probe's business: a later step (maps, mounts) has a probe of its own.
        boolean created = run.ok() || run.failure().map(f -> !"clone".equals(Field.STEP.in(f))).orElse(false);
        if (created) {
            if (max != null && max.matches("[0-9]+") && Integer.parseInt(max) < MANY_SANDBOXES)
                return new Probe("user-namespaces", Status.DEGRADED, "user.max_user_namespaces allows only " + max
                        + " user namespaces per user at once, so only that many sandboxes can run concurrently",
                        String.join(", ", evidence), "sysctl -w user.max_user_namespaces=15000", features);
            return new Probe("user-namespaces", Status.OK, "", String.join(", ", evidence), "", features);
        }
        return refused("user-namespaces", "creating a user namespace", run, evidence, features);
    }

    /**
     * Whether a sandbox's pid namespace takes its own kernel.pid_max (Linux 6.14 and later):
     * the only bound on a root caller's processes short of cgroups, since the kernel exempts root
     * from RLIMIT_NPROC.
     */
    private static Probe processLimit() throws IOException {
        List<String> features = List.of("--processes (root callers)", "serve --action-processes (root)");
        Process p = new ProcessBuilder(NativeBinaries.path(NativeBinaries.LAUNCHER).toString(), "--unshare-all",
                "--ro-bind", "/", "/", "--proc", "/proc", "--rlimit", "nproc", "400", "--", "/bin/cat",
                "/proc/sys/kernel/pid_max").redirectErrorStream(true).start();
        p.getOutputStream().close();
        String seen = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while probing", e);
        }
        String what = "a process limit in a sandbox sets its pid namespace's pid_max";
        if (seen.equals("401"))
            return new Probe("process-limit", Status.OK, "", what + ": works (binds root too)", "", features);
        return new Probe("process-limit", Status.DEGRADED, "this kernel keeps kernel.pid_max for the whole host, and "
                + "exempts root from RLIMIT_NPROC: a root caller's process limit is not enforced",
                "pid_max in a sandbox with --rlimit nproc 400: " + seen, "Linux 6.14 or later, or run as a user other "
                + "than root (RLIMIT_NPROC then bounds an action's processes)", features);
    }

    private static Probe cgroups() {
        List<String> features = List.of("cgroup v2 limits (not used yet: actions get rlimits)");
        String self = read(Path.of("/proc/self/cgroup"));
        if (self == null)
            return new Probe("cgroups", Status.UNAVAILABLE, "/proc/self/cgroup is unreadable", "read /proc/self/cgroup",
                    "mount /proc", features);
        boolean unified = self.lines().count() == 1 && self.startsWith("0::");
        if (!unified)
            return new Probe("cgroups", Status.DEGRADED, "cgroup v1 or hybrid hierarchy: no delegation to this user",
                    "/proc/self/cgroup has " + self.lines().count() + " hierarchies",
                    "boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2)", features);
        Path dir = Path.of("/sys/fs/cgroup", self.substring(3));
        String controllers = read(dir.resolve("cgroup.controllers"));
        boolean writable = Files.isWritable(dir);
        boolean memoryAndPids = controllers != null && controllers.contains("memory") && controllers.contains("pids");
        if (writable && memoryAndPids)
            return new Probe("cgroups", Status.OK, "", "cgroup v2 at " + dir + ", controllers: " + controllers, "", features);
        return new Probe("cgroups", Status.DEGRADED, "cgroup v2, but " + (writable ? "memory or pids is not delegated"
                : "this user's cgroup is not writable"), dir + ": controllers " + controllers + ", writable " + writable,
                "run paddock in a delegated cgroup (systemd-run --user --scope -p Delegate=yes)", features);
    }

    private static final MethodHandle SYSCALL = Native.withErrno("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT), Linker.Option.firstVariadicArg(1));

    private static Probe landlock() {
        List<String> features = List.of("--sandbox=auto without user namespaces (Landlock fallback)");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Native.CALL_STATE);
            // landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) returns the ABI version.
            long abi = (long) SYSCALL.invokeExact(state, 444L, MemorySegment.NULL, 0L, 1);
            if (abi > 0) return new Probe("landlock", Status.OK, "", "Landlock ABI " + abi, "", features);
            int err = Native.errno(state);
            return new Probe("landlock", Status.UNAVAILABLE, "the kernel offers no Landlock",
                    "landlock_create_ruleset -> " + Errno.name(err), "a kernel 5.13 or later with lsm=...,landlock",
                    features);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static Probe seccomp() {
        List<String> features = List.of("sandbox (a filter may refuse namespaces or mounts)");
        String status = read(Path.of("/proc/self/status"));
        String mode = status == null ? "?" : status.lines().filter(l -> l.startsWith("Seccomp:"))
                .map(l -> l.substring(8).trim()).findFirst().orElse("?");
        String nnp = status == null ? "?" : status.lines().filter(l -> l.startsWith("NoNewPrivs:"))
                .map(l -> l.substring(11).trim()).findFirst().orElse("?");
        String evidence = "/proc/self/status Seccomp: " + mode + ", NoNewPrivs: " + nnp;
        if (mode.equals("2"))
            return new Probe("seccomp", Status.DEGRADED, "this process runs under a seccomp filter", evidence,
                    "if a probe above was refused with EPERM, the filter is the likely cause: allow unshare, clone "
                            + "and mount for paddock-launch", features);
        return new Probe("seccomp", Status.OK, "", evidence, "", features);
    }

    private static Probe pty(Paddock paddock) throws IOException {
        List<String> features = List.of("--pty");
        try {
            Execution e = paddock.start(Action.newBuilder("sh", "-c", "test -t 0 -a -t 1 && tty").pty(PtySize.DEFAULT)
                    .build());
            String out;
            try (Pty pty = e.pty()) {
                out = new String(pty.output().readAllBytes(), StandardCharsets.UTF_8).trim();
            }
            if (e.await().exitCode() == 0)
                return new Probe("devpts-pty", Status.OK, "", "a fresh pty: " + out, "", features);
            return new Probe("devpts-pty", Status.UNAVAILABLE, "the action's pty was not its terminal",
                    "tty in the action: " + out, "check that /dev/pts is a devpts mount", features);
        } catch (Native.ErrnoException ex) {
            return new Probe("devpts-pty", Status.UNAVAILABLE, "no pty could be opened", ex.getMessage(),
                    "mount devpts at /dev/pts (with ptmxmode=0666) and make /dev/ptmx point to it", features);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while probing", ex);
        }
    }
}
