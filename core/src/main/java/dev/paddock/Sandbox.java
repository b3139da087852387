package dev.paddock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a sandboxed action may see: a rootless jail built from Linux
 * namespaces (user, mount, pid, net, ipc, uts, cgroup) with a fresh root.
 * The action keeps no capabilities, gets a fresh /proc for its own pid
 * namespace, a minimal /dev, a private /tmp and its working directory
 * writable, under one of two bases:
 *
 * <ul>
 *   <li>{@link #hostReadOnly()}: the host's {@code /} read-only, for builds that may read anything,
 *       but with {@code /run} and {@code /var/tmp} empty (where host services keep their unix sockets);
 *   <li>{@link #hermetic()}: only what is declared: the system directories ({@code /usr}, {@code /bin},
 *       {@code /lib*}, {@code /etc}) read-only, the working directory as the input root, and whatever
 *       toolchain directories are added with {@link Builder#readOnly(Path)};
 *   <li>{@link #inputRoot(Path)}: a host directory (a remote-execution action's input root) becomes
 *       the sandbox's {@code /}, writable, as remote-execution runners expect; the action's working
 *       directory lies inside it, and toolchains are added with {@link Builder#readOnly(Path)}.
 * </ul>
 *
 * Mounts added on the builder apply in order after the base's.
 */
public final class Sandbox {
    /** The action's network. */
    public enum Network {
        /** Its own network namespace with no interface up: not even loopback works. */
        NONE,
        /** Its own network namespace with only loopback up: no outside network. */
        LOOPBACK,
        /**
         * Like {@link #LOOPBACK}, but the namespace is one the spawn server created once and every
         * SHARED action of the same {@link Paddock} joins: no outside network, and no cost of
         * creating and tearing down a namespace per action, but these actions can reach each
         * other's loopback listeners and abstract unix sockets. In {@link SpawnMode#ONE_SHOT}
         * mode each action gets its own namespace, as with LOOPBACK.
         */
        SHARED,
        /** The host's network. */
        HOST
    }

    /** Which base the sandbox starts from. */
    public enum Base {
        /** The host's {@code /} read-only. */
        HOST_READ_ONLY,
        /** Nothing from the host but the declared paths. */
        HERMETIC,
        /** A host directory, the input root, as {@code /}: see {@link Sandbox#inputRoot(Path)}. */
        INPUT_ROOT
    }

    /**
     * How overlays are mounted. {@code AUTO} tries kernel overlayfs, then fuse-overlayfs, then
     * read-only binds on a tmpfs, and reports every fallback in {@link Outcome#degradations()}; the
     * others force one implementation (and fail rather than fall back).
     */
    public enum OverlayImpl { AUTO, KERNEL, FUSE, BIND }

    /**
     * What happens where the host refuses part of the sandbox (docs/diagnostics.md lists the causes).
     * Without a sandbox at all, an {@link Action} simply has none: that is the CLI's
     * {@code --sandbox=off}.
     */
    public enum Mode {
        /**
         * Degrade one step at a time and report each step in {@link Outcome#degradations()}: a refused
         * fresh procfs becomes the host's /proc bound read-only (the action sees the host's processes);
         * a refused kernel overlay becomes fuse-overlayfs, then binds (see {@link OverlayImpl#AUTO});
         * a host that refuses user namespaces or mounts altogether gets the action contained, under
         * no_new_privs and Landlock rules that allow reading what the sandbox would show and writing
         * only where it would be writable (/tmp becomes a private directory passed as TMPDIR). Fails
         * only when not even that is possible (no Landlock, or an overlay or a bind to another path).
         */
        AUTO,
        /** The full sandbox or a setup failure that names the cause and the remedy; no fallback at all. */
        REQUIRED
    }

    /** The default bound of each of a sandbox's tmpfs mounts: 2 GiB. */
    public static final long DEFAULT_TMPFS_BYTES = 2L << 30;

    /** Directories a hermetic sandbox needs to run the host's programs at all. */
    static final List<Path> SYSTEM_DIRECTORIES = List.of(Path.of("/usr"), Path.of("/bin"), Path.of("/sbin"),
            Path.of("/lib"), Path.of("/lib32"), Path.of("/lib64"), Path.of("/libx32"), Path.of("/etc"));

    /** One mount inside the sandbox. */
    public sealed interface Mount {
        Path destination();

        /** Host path source visible read-only at destination. */
        record ReadOnly(Path source, Path destination) implements Mount {
            public ReadOnly {
                Objects.requireNonNull(source, "source");
                requireAbsolute(destination);
            }
        }

        /** Host path source visible and writable at destination. */
        record Writable(Path source, Path destination) implements Mount {
            public Writable {
                Objects.requireNonNull(source, "source");
                requireAbsolute(destination);
            }
        }

        /** An empty private tmpfs at destination. */
        record Tmpfs(Path destination) implements Mount {
            public Tmpfs {
                requireAbsolute(destination);
            }
        }

        /**
         * The union of layers (host directories, lowest first) at destination. Writes land in
         * {@code upper} (a host directory, with {@code work} an empty directory on the same
         * filesystem) when it is present, in a private tmpfs that vanishes with the sandbox when it is
         * not, or are refused when {@code readOnly}.
         */
        record Overlay(List<Path> layers, Path destination, Optional<Path> upper, Optional<Path> work,
                boolean readOnly) implements Mount {
            public Overlay {
                layers = List.copyOf(layers);
                if (layers.isEmpty()) throw new IllegalArgumentException("an overlay needs at least one layer");
                requireAbsolute(destination);
                if (upper.isPresent() != work.isPresent())
                    throw new IllegalArgumentException("an overlay's upper and work directories come together");
                if (readOnly && upper.isPresent())
                    throw new IllegalArgumentException("a read-only overlay has no upper directory");
                for (Path p : layers) requireOverlayPath(p);
                upper.ifPresent(Sandbox::requireOverlayPath);
                work.ifPresent(Sandbox::requireOverlayPath);
            }
        }
    }

    private final Base base;
    private final Path inputRoot;
    private final Path temporaryDirectory;
    private final boolean systemDirectories;
    private final boolean defaultSeccomp;
    private final long tmpfsBytes;
    private final List<Mount> mounts;
    private final Network network;
    private final String hostname;
    private final Integer uid;
    private final Integer gid;
    private final OverlayImpl overlayImpl;
    private final Mode mode;

    private Sandbox(Builder b) {
        this.base = b.base;
        this.inputRoot = b.inputRoot;
        this.temporaryDirectory = b.temporaryDirectory;
        this.systemDirectories = b.systemDirectories;
        this.defaultSeccomp = b.defaultSeccomp;
        this.tmpfsBytes = b.tmpfsBytes;
        this.mounts = List.copyOf(b.mounts);
        this.network = b.network;
        this.hostname = b.hostname;
        this.uid = b.uid;
        this.gid = b.gid;
        this.overlayImpl = b.overlayImpl;
        this.mode = b.mode;
    }

    /** Host {@code /} read-only, fresh /proc, /dev and /tmp, the working directory writable, loopback only. */
    public static Sandbox hostReadOnly() {
        return newBuilder().build();
    }

    /**
     * Only the system directories read-only, fresh /proc, /dev and /tmp, and the working directory
     * (the input root) writable, loopback only. Add toolchains with {@link Builder#readOnly(Path)}
     * on {@code newBuilder(Base.HERMETIC)}.
     */
    public static Sandbox hermetic() {
        return newBuilder(Base.HERMETIC).build();
    }

    /**
     * A builder whose base is {@code root}, a host directory, as the sandbox's {@code /} (writable),
     * with a fresh /proc, a minimal /dev and a private /tmp on top, and nothing else of the host's
     * unless added with {@link Builder#readOnly(Path)}. The action's {@link Action#directory()} must
     * lie inside {@code root} (the default is {@code root} itself); inside, it is the same path
     * relative to {@code /}. The launcher creates the mount points it needs ({@code proc},
     * {@code dev}, {@code tmp}, toolchain paths) inside {@code root} when they are missing.
     */
    public static Builder inputRoot(Path root) {
        Builder b = new Builder(Base.INPUT_ROOT);
        b.inputRoot = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
        return b;
    }

    /** A builder over the host-read-only base. */
    public static Builder newBuilder() {
        return new Builder(Base.HOST_READ_ONLY);
    }

    /** A builder over {@code base}; for {@link Base#INPUT_ROOT} use {@link #inputRoot(Path)}. */
    public static Builder newBuilder(Base base) {
        if (base == Base.INPUT_ROOT) throw new IllegalArgumentException("an input-root sandbox needs its root: "
                + "use Sandbox.inputRoot(Path)");
        return new Builder(Objects.requireNonNull(base, "base"));
    }

    public Base base() {
        return base;
    }

    /** The host directory that is {@code /} inside, for {@link Base#INPUT_ROOT}. */
    public Optional<Path> inputRootPath() {
        return Optional.ofNullable(inputRoot);
    }

    /** The host directory bound at {@code /tmp} inside; empty: a private tmpfs. */
    public Optional<Path> temporaryDirectory() {
        return Optional.ofNullable(temporaryDirectory);
    }

    /** The most each of the sandbox's tmpfs mounts (/tmp, /dev/shm, declared ones) may hold. */
    public long tmpfsBytes() {
        return tmpfsBytes;
    }

    /** Whether the action runs under paddock's default seccomp filter (see {@link Builder#defaultSeccompFilter}). */
    public boolean defaultSeccompFilter() {
        return defaultSeccomp;
    }

    public List<Mount> mounts() {
        return mounts;
    }

    public Network network() {
        return network;
    }

    public Optional<String> hostname() {
        return Optional.ofNullable(hostname);
    }

    public OptionalInt uid() {
        return uid == null ? OptionalInt.empty() : OptionalInt.of(uid);
    }

    public OptionalInt gid() {
        return gid == null ? OptionalInt.empty() : OptionalInt.of(gid);
    }

    public OverlayImpl overlayImpl() {
        return overlayImpl;
    }

    public Mode mode() {
        return mode;
    }

    /** A short description for outcome records and logs. */
    public String describe() {
        StringBuilder sb = new StringBuilder(switch (base) {
                    case HOST_READ_ONLY -> "host-readonly";
                    case HERMETIC -> "hermetic";
                    case INPUT_ROOT -> "input-root " + inputRoot;
                })
                .append(", ").append(mode.name().toLowerCase())
                .append(", network ").append(network.name().toLowerCase());
        hostname().ifPresent(h -> sb.append(", hostname ").append(h));
        uid().ifPresent(u -> sb.append(", uid ").append(u));
        gid().ifPresent(g -> sb.append(", gid ").append(g));
        if (overlayImpl != OverlayImpl.AUTO) sb.append(", overlays ").append(overlayImpl.name().toLowerCase());
        if (systemDirectories) sb.append(", system directories");
        if (!defaultSeccomp) sb.append(", no seccomp filter");
        if (tmpfsBytes != DEFAULT_TMPFS_BYTES) sb.append(", tmpfs ").append(tmpfsBytes).append(" bytes");
        temporaryDirectory().ifPresent(t -> sb.append(", tmp ").append(t));
        for (Mount m : mounts) {
            sb.append(", ");
            switch (m) {
                case Mount.ReadOnly r -> sb.append("ro ").append(r.source()).append(':').append(r.destination());
                case Mount.Writable w -> sb.append("rw ").append(w.source()).append(':').append(w.destination());
                case Mount.Tmpfs t -> sb.append("tmpfs ").append(t.destination());
                case Mount.Overlay o -> {
                    sb.append(o.readOnly() ? "ro-overlay " : o.upper().isPresent() ? "overlay " : "tmp-overlay ");
                    o.layers().forEach(l -> sb.append(l).append(':'));
                    sb.append(o.destination());
                }
            }
        }
        return sb.toString();
    }

    /**
     * The paths inside that the sandbox puts something on: /proc, /dev, /tmp, the system
     * directories the host has (as bind or link) and every mount's destination. Over an input root the launcher
     * creates those that are missing in the root itself (a caller may remove them afterwards).
     */
    public List<Path> mountPoints() {
        List<Path> points = new ArrayList<>(List.of(Path.of("/proc"), Path.of("/dev"), Path.of("/tmp")));
        if (base == Base.HERMETIC || systemDirectories) points.addAll(SystemDirectories.HOST.keySet());
        for (Mount m : mounts) points.add(m.destination());
        return List.copyOf(points);
    }

    /**
     * Where an action whose {@link Action#directory()} is {@code directory} (absolute, on the host)
     * works inside: the same path, or for an input-root sandbox the path relative to the root.
     *
     * @throws IllegalArgumentException for an input-root sandbox, when directory is outside the root
     */
    public Path directoryInside(Path directory) {
        if (base != Base.INPUT_ROOT) return directory;
        Path d = directory.toAbsolutePath().normalize();
        if (!d.startsWith(inputRoot)) throw new IllegalArgumentException("the working directory " + d
                + " is not inside the sandbox's input root " + inputRoot);
        return Path.of("/").resolve(inputRoot.relativize(d));
    }

    /** The launcher options (bubblewrap's vocabulary) for an action working in directory. */
    public List<String> launcherOptions(Path directory) {
        // No capabilities, also for a caller that is root (bubblewrap's rules would keep root's in the namespace).
        // No link is followed in a bind's source or destination: one an earlier action planted in a
        // writable directory would otherwise redirect a bind or make directories on the host.
        List<String> o = new ArrayList<>(List.of("--unshare-all", "--cap-drop", "ALL", "--refuse-symlinks"));
        if (defaultSeccomp) o.add("--default-seccomp");
        if (mode == Mode.REQUIRED) o.addAll(List.of("--sandbox-mode", "required"));
        if (network == Network.HOST) o.add("--share-net");
        if (network == Network.NONE) o.add("--no-loopback");
        if (network == Network.SHARED) o.add("--shared-netns");
        if (hostname != null) o.addAll(List.of("--hostname", hostname));
        if (uid != null) o.addAll(List.of("--uid", uid.toString()));
        if (gid != null) o.addAll(List.of("--gid", gid.toString()));
        if (overlayImpl != OverlayImpl.AUTO) o.addAll(List.of("--overlay-impl", overlayImpl.name().toLowerCase()));
        if (base == Base.HOST_READ_ONLY) {
            o.addAll(List.of("--ro-bind", "/", "/"));
            o.addAll(hostSocketsHidden());
        } else if (base == Base.INPUT_ROOT) {
            o.addAll(List.of("--bind", inputRoot.toString(), "/"));
            if (systemDirectories) o.addAll(systemDirectoryOptions(inputRoot));
        } else {
            o.addAll(systemDirectoryOptions(null));
        }
        o.addAll(List.of("--proc", "/proc", "--shm-size", Long.toString(tmpfsBytes), "--dev", "/dev"));
        if (temporaryDirectory != null) o.addAll(List.of("--bind", temporaryDirectory.toString(), "/tmp"));
        else o.addAll(tmpfs("/tmp"));
        if (base != Base.INPUT_ROOT) {
            String dir = directory.toAbsolutePath().toString();
            o.addAll(List.of("--bind", dir, dir));
        }
        for (Mount m : mounts) {
            switch (m) {
                case Mount.ReadOnly r -> o.addAll(List.of("--ro-bind", abs(r.source()), r.destination().toString()));
                case Mount.Writable w -> o.addAll(List.of("--bind", abs(w.source()), w.destination().toString()));
                case Mount.Tmpfs t -> o.addAll(tmpfs(t.destination().toString()));
                // One read-only layer is no union: bound read-only, as bubblewrap requires two for --ro-overlay.
                case Mount.Overlay ov when ov.readOnly() && ov.layers().size() == 1 ->
                        o.addAll(List.of("--ro-bind", abs(ov.layers().getFirst()), ov.destination().toString()));
                case Mount.Overlay ov -> {
                    for (Path layer : ov.layers()) o.addAll(List.of("--overlay-src", abs(layer)));
                    String dest = ov.destination().toString();
                    if (ov.readOnly()) o.addAll(List.of("--ro-overlay", dest));
                    else if (ov.upper().isPresent())
                        o.addAll(List.of("--overlay", abs(ov.upper().get()), abs(ov.work().orElseThrow()), dest));
                    else o.addAll(List.of("--tmp-overlay", dest));
                }
            }
        }
        return o;
    }

    /** A private tmpfs at dest, of at most {@link #tmpfsBytes()}. */
    private List<String> tmpfs(String dest) {
        return List.of("--size", Long.toString(tmpfsBytes), "--tmpfs", dest);
    }

    /**
     * Over the host's root: the places where host services keep their unix sockets become empty.
     * A socket on a read-only mount still accepts connections, so the D-Bus buses, docker.sock, the
     * user's runtime directory (ssh and gpg agents, the session bus) under /run and sockets left
     * in /var/tmp would otherwise all be reachable. /tmp is private already; abstract sockets need
     * the host's network namespace. With the host's network, a resolv.conf that lives under /run
     * (systemd-resolved) is bound again, read-only, so that names still resolve.
     */
    private List<String> hostSocketsHidden() {
        List<String> o = new ArrayList<>();
        for (String dir : List.of("/run", "/var/run", "/var/tmp")) {
            Path p = Path.of(dir);
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) o.addAll(tmpfs(dir));
        }
        if (network == Network.HOST) {
            try {
                Path resolv = Path.of("/etc/resolv.conf").toRealPath();
                if (resolv.startsWith("/run") || resolv.startsWith("/var/run"))
                    o.addAll(List.of("--ro-bind-try", resolv.toString(), resolv.toString()));
            } catch (IOException e) {
                // no resolv.conf: nothing to keep
            }
        }
        return o;
    }

    /**
     * The system directories read-only, with merged-/usr links (/bin -> usr/bin) mirrored as links;
     * over an input root, no link where the root has an entry of that name already.
     */
    private static List<String> systemDirectoryOptions(Path root) {
        List<String> o = new ArrayList<>();
        for (Map.Entry<Path, Optional<Path>> e : SystemDirectories.HOST.entrySet()) {
            Path dir = e.getKey();
            Optional<Path> link = e.getValue();
            if (link.isPresent()) {
                if (root != null && Files.exists(root.resolve(dir.getFileName()), LinkOption.NOFOLLOW_LINKS)) continue;
                o.addAll(List.of("--symlink", link.get().toString(), dir.toString()));
            } else {
                o.addAll(List.of("--ro-bind-try", dir.toString(), dir.toString()));
            }
        }
        return o;
    }

    /**
     * Which of the host's {@link #SYSTEM_DIRECTORIES} exist, and which of those are links (merged
     * /usr's /bin -> usr/bin) to what: looked up once, as every sandboxed spawn needs them and they
     * change only when the system does. A link that cannot be read is bound as what it points to.
     */
    private static final class SystemDirectories {
        static final Map<Path, Optional<Path>> HOST = lookUp();

        private static Map<Path, Optional<Path>> lookUp() {
            Map<Path, Optional<Path>> dirs = new LinkedHashMap<>();
            for (Path dir : SYSTEM_DIRECTORIES) {
                if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) continue;
                Optional<Path> target = Optional.empty();
                if (Files.isSymbolicLink(dir)) {
                    try {
                        target = Optional.of(Files.readSymbolicLink(dir));
                    } catch (IOException e) {
                        // unreadable link: bound instead
                    }
                }
                dirs.put(dir, target);
            }
            return Collections.unmodifiableMap(dirs);
        }
    }

    private static String abs(Path p) {
        return p.toAbsolutePath().normalize().toString();
    }

    private static void requireAbsolute(Path destination) {
        if (!Objects.requireNonNull(destination, "destination").isAbsolute())
            throw new IllegalArgumentException("a sandbox destination must be absolute: " + destination);
    }

    /** The kernel's overlay options separate paths with ',' and ':'. */
    private static void requireOverlayPath(Path p) {
        String s = abs(Objects.requireNonNull(p, "overlay path"));
        if (s.contains(",") || s.contains(":") || s.contains("\\"))
            throw new IllegalArgumentException("an overlay path cannot contain ',', ':' or '\\': " + s);
    }

    /** Builds {@link Sandbox} policies. */
    public static final class Builder {
        private final Base base;
        private Path inputRoot;
        private Path temporaryDirectory;
        private boolean systemDirectories;
        private boolean defaultSeccomp = true;
        private long tmpfsBytes = DEFAULT_TMPFS_BYTES;
        private final List<Mount> mounts = new ArrayList<>();
        private Network network = Network.LOOPBACK;
        private String hostname;
        private Integer uid;
        private Integer gid;
        private OverlayImpl overlayImpl = OverlayImpl.AUTO;
        private Mode mode = Mode.AUTO;

        private Builder(Base base) {
            this.base = base;
        }

        /** Makes host path source visible read-only at destination. */
        public Builder readOnly(Path source, Path destination) {
            mounts.add(new Mount.ReadOnly(source, destination));
            return this;
        }

        /** Makes the host directory path visible read-only at the same path (a toolchain, say). */
        public Builder readOnly(Path path) {
            return readOnly(path, path.toAbsolutePath().normalize());
        }

        /** Makes host path source visible and writable at destination. */
        public Builder writable(Path source, Path destination) {
            mounts.add(new Mount.Writable(source, destination));
            return this;
        }

        /**
         * For an {@link Sandbox#inputRoot(Path) input-root} sandbox: also the host's system
         * directories ({@code /usr}, {@code /bin}, {@code /lib*}, {@code /etc}...) read-only at their
         * own paths, as a hermetic sandbox has them, so that the host's compilers and interpreters run.
         */
        public Builder systemDirectories() {
            if (base != Base.INPUT_ROOT) throw new IllegalStateException("only an input-root sandbox adds the "
                    + "system directories: the other bases have them already");
            this.systemDirectories = true;
            return this;
        }

        /**
         * The most each of the sandbox's tmpfs mounts may hold: /tmp, /dev/shm and those declared
         * with {@link #tmpfs(Path)} (default {@link #DEFAULT_TMPFS_BYTES}). A tmpfs lives in memory:
         * without a bound, an action that fills one takes half the machine's memory.
         */
        public Builder tmpfsBytes(long bytes) {
            if (bytes <= 0) throw new IllegalArgumentException("a tmpfs size is positive: " + bytes);
            this.tmpfsBytes = bytes;
            return this;
        }

        /**
         * Whether the action runs under paddock's default seccomp filter (the default: yes). It
         * refuses with EPERM what a build has no use for and an escape needs: the kernel keyrings,
         * nested namespaces (unshare, setns, clone with namespace flags), the mount calls, io_uring,
         * bpf, perf_event_open, userfaultfd, module and kexec loading, personality changes, and
         * the TIOCSTI and TIOCLINUX ioctls. Turn it off only for actions that need one of these
         * (a nested sandbox, say); {@link #describe()} then says "no seccomp filter".
         */
        public Builder defaultSeccompFilter(boolean on) {
            this.defaultSeccomp = on;
            return this;
        }

        /**
         * Binds the host directory at {@code /tmp} inside, writable, instead of a private tmpfs (a
         * remote-execution runner's scratch directory for the action, say).
         */
        public Builder temporaryDirectory(Path directory) {
            this.temporaryDirectory = Objects.requireNonNull(directory, "directory").toAbsolutePath().normalize();
            return this;
        }

        /** An empty private tmpfs at destination. */
        public Builder tmpfs(Path destination) {
            mounts.add(new Mount.Tmpfs(destination));
            return this;
        }

        /** The union of layers (lowest first) at destination; writes go to a private tmpfs and vanish. */
        public Builder overlay(List<Path> layers, Path destination) {
            mounts.add(new Mount.Overlay(layers, destination, Optional.empty(), Optional.empty(), false));
            return this;
        }

        /** The union of layers (lowest first) at destination; writes land in the host directory upper. */
        public Builder overlay(List<Path> layers, Path destination, Path upper, Path work) {
            mounts.add(new Mount.Overlay(layers, destination, Optional.of(upper), Optional.of(work), false));
            return this;
        }

        /** The union of layers (lowest first) at destination, read-only; a single layer is bound read-only. */
        public Builder readOnlyOverlay(List<Path> layers, Path destination) {
            mounts.add(new Mount.Overlay(layers, destination, Optional.empty(), Optional.empty(), true));
            return this;
        }

        public Builder overlayImpl(OverlayImpl impl) {
            this.overlayImpl = Objects.requireNonNull(impl, "impl");
            return this;
        }

        /** {@link Mode#AUTO} (the default) degrades where the host refuses; {@link Mode#REQUIRED} fails. */
        public Builder mode(Mode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        public Builder network(Network network) {
            this.network = Objects.requireNonNull(network, "network");
            return this;
        }

        public Builder hostname(String hostname) {
            if (hostname != null && (hostname.isEmpty() || hostname.length() > 64))
                throw new IllegalArgumentException("a hostname has 1 to 64 characters: '" + hostname + "'");
            this.hostname = hostname;
            return this;
        }

        /** The uid the action has inside (default: the caller's). */
        public Builder uid(int uid) {
            if (uid < 0) throw new IllegalArgumentException("a uid is not negative: " + uid);
            this.uid = uid;
            return this;
        }

        /** The gid the action has inside (default: the caller's). */
        public Builder gid(int gid) {
            if (gid < 0) throw new IllegalArgumentException("a gid is not negative: " + gid);
            this.gid = gid;
            return this;
        }

        public Sandbox build() {
            return new Sandbox(this);
        }
    }
}
