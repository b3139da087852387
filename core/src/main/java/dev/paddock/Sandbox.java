package dev.paddock;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a sandboxed action may see: a rootless jail built from Linux
 * namespaces (user, mount, pid, net, ipc, uts, cgroup) with a fresh root.
 * The action runs as the caller's uid inside, keeps no capabilities, gets a
 * fresh /proc for its own pid namespace, a minimal /dev and a private /tmp.
 *
 * <p>{@link #hostReadOnly()} is the preset most builds start from: the host's
 * {@code /} read-only, the action's working directory writable.
 */
public final class Sandbox {
    /** The action's network. */
    public enum Network {
        /** Its own network namespace with only loopback up: no outside network. */
        NONE,
        /** The host's network. */
        HOST
    }

    /** One mount inside the sandbox, applied in order after the preset's. */
    public record Mount(Kind kind, Optional<Path> source, Path destination) {
        public enum Kind { READ_ONLY, WRITABLE, TMPFS }

        public Mount {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(source, "source");
            if (!Objects.requireNonNull(destination, "destination").isAbsolute())
                throw new IllegalArgumentException("a sandbox destination must be absolute: " + destination);
        }
    }

    private final List<Mount> mounts;
    private final Network network;
    private final String hostname;

    private Sandbox(Builder b) {
        this.mounts = List.copyOf(b.mounts);
        this.network = b.network;
        this.hostname = b.hostname;
    }

    /** Host {@code /} read-only, fresh /proc, /dev and /tmp, the working directory writable, no network. */
    public static Sandbox hostReadOnly() {
        return newBuilder().build();
    }

    public static Builder newBuilder() {
        return new Builder();
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

    /** A short description for outcome records and logs. */
    public String describe() {
        StringBuilder sb = new StringBuilder("host-readonly, network ").append(network.name().toLowerCase());
        hostname().ifPresent(h -> sb.append(", hostname ").append(h));
        for (Mount m : mounts)
            sb.append(", ").append(m.kind().name().toLowerCase().replace('_', '-')).append(' ')
                    .append(m.source().map(s -> s + ":").orElse("")).append(m.destination());
        return sb.toString();
    }

    /** The launcher options (bubblewrap's vocabulary) for an action working in directory. */
    public List<String> launcherOptions(Path directory) {
        List<String> o = new ArrayList<>(List.of("--unshare-all"));
        if (network == Network.HOST) o.add("--share-net");
        if (hostname != null) o.addAll(List.of("--hostname", hostname));
        o.addAll(List.of("--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"));
        String dir = directory.toAbsolutePath().toString();
        o.addAll(List.of("--bind", dir, dir));
        for (Mount m : mounts) {
            switch (m.kind()) {
                case READ_ONLY -> o.addAll(List.of("--ro-bind", m.source().orElseThrow().toAbsolutePath().toString(),
                        m.destination().toString()));
                case WRITABLE -> o.addAll(List.of("--bind", m.source().orElseThrow().toAbsolutePath().toString(),
                        m.destination().toString()));
                case TMPFS -> o.addAll(List.of("--tmpfs", m.destination().toString()));
            }
        }
        return o;
    }

    /** Builds {@link Sandbox} policies. */
    public static final class Builder {
        private final List<Mount> mounts = new ArrayList<>();
        private Network network = Network.NONE;
        private String hostname;

        private Builder() {}

        /** Makes host path source visible read-only at destination. */
        public Builder readOnly(Path source, Path destination) {
            mounts.add(new Mount(Mount.Kind.READ_ONLY, Optional.of(source), destination));
            return this;
        }

        /** Makes host path source visible and writable at destination. */
        public Builder writable(Path source, Path destination) {
            mounts.add(new Mount(Mount.Kind.WRITABLE, Optional.of(source), destination));
            return this;
        }

        /** An empty private tmpfs at destination. */
        public Builder tmpfs(Path destination) {
            mounts.add(new Mount(Mount.Kind.TMPFS, Optional.empty(), destination));
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

        public Sandbox build() {
            return new Sandbox(this);
        }
    }
}
