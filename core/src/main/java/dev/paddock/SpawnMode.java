package dev.paddock;

/** How a {@link Paddock} starts its actions. Containment, sandbox and pty behave the same in both. */
public enum SpawnMode {
    /**
     * The default: one long-lived {@code paddock-launch --server} per Paddock, started on first
     * use and restarted if it dies, forks a small keeper process per action. No program is
     * executed per spawn but the action itself. If the server cannot start, the Paddock says so
     * once on stderr and runs {@link #ONE_SHOT} from then on.
     */
    SERVER,
    /** One {@code paddock-launch} per action, posix_spawned by the JVM. */
    ONE_SHOT
}
