package dev.paddock;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/** Helpers for tests that look at real processes. */
final class Procs {
    private Procs() {}

    /** Alive and not a zombie, and still the program we started (guards against pid reuse). */
    static boolean alive(long pid, String commandFragment) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            if (state == 'Z' || state == 'X') return false;
            String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
            return cmdline.contains(commandFragment);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Waits until file holds at least n non-empty lines, written by an action.
     * Bounded: fails the test instead of hanging.
     */
    static List<Long> awaitPids(Path file, int n, Duration limit) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        for (;;) {
            if (Files.exists(file)) {
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                        .map(String::trim).filter(s -> !s.isEmpty()).toList();
                if (lines.size() >= n) return lines.stream().map(Long::parseLong).toList();
            }
            if (System.nanoTime() > deadline)
                throw new AssertionError("the action did not write " + n + " pids to " + file + " within " + limit);
            Thread.sleep(5); // polling a file the action writes; the event is the file's content
        }
    }

    /**
     * The host's pids of live processes whose command line starts with prefix, once there are
     * count of them (bounded by limit): for sandboxed actions, whose own pids belong to their pid
     * namespace. An action that says it started its children may still have one between fork and
     * exec, and nothing signals the exec, so this polls.
     */
    static List<Long> awaitStartedAs(String prefix, int count, Duration limit) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        for (;;) {
            List<Long> found = startedAs(prefix);
            if (found.size() >= count || System.nanoTime() > deadline) return found;
            Thread.sleep(5);
        }
    }

    private static List<Long> startedAs(String prefix) throws IOException {
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong).filter(pid -> {
                        try {
                            String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
                            return cmdline.startsWith(prefix) && alive(pid, prefix);
                        } catch (IOException | RuntimeException e) {
                            return false; // exited meanwhile
                        }
                    }).toList();
        }
    }

    /** Waits until none of pids is alive, up to limit; returns those still alive. */
    static List<Long> survivors(List<Long> pids, String fragment, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        for (;;) {
            List<Long> alive = pids.stream().filter(p -> alive(p, fragment)).toList();
            if (alive.isEmpty() || System.nanoTime() > deadline) return alive;
            Thread.sleep(10);
        }
    }
}
