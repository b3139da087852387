package dev.paddock.remote;

import build.bazel.remote.execution.v2.Digest;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The partial ByteStream uploads under uploads/, one file per upload key, and the bytes they hold
 * together. Bytes are reserved before a chunk is written; when the total would pass the limit,
 * idle uploads (no Write call holds them) are removed, the one written longest ago first, and if
 * that is not enough the chunk is refused. Idle uploads nobody resumed for the abandoned age are
 * removed at start and, while the server runs, when an upload starts (at most once per sweep
 * interval). A removed upload reads as unknown: its client starts it again at offset 0.
 */
final class PartialUploads {
    /** Partial uploads nobody resumed for this long are removed. */
    static final Duration ABANDONED_AGE = Duration.ofDays(1);
    /** How often at most uploads are looked at for their age while the server runs. */
    static final Duration SWEEP_INTERVAL = Duration.ofMinutes(1);

    private final Path directory;
    private final long maxBytes;
    private final Duration abandonedAge;
    private final Duration sweepInterval;
    // guarded by this:
    private final Map<String, Long> held = new HashMap<>(); // bytes per upload key, reservations included
    private final Set<String> writing = new HashSet<>(); // keys a Write call holds
    private long total;
    private Instant nextSweep;

    /**
     * The uploads in directory, which may hold maxBytes together (the --max-cache-size); idle ones
     * go after abandonedAge ({@link #ABANDONED_AGE}), looked for at most every sweepInterval
     * ({@link #SWEEP_INTERVAL}). Uploads already past either bound are removed here.
     */
    PartialUploads(Path directory, long maxBytes, Duration abandonedAge, Duration sweepInterval) throws IOException {
        this.directory = directory;
        this.maxBytes = maxBytes;
        this.abandonedAge = abandonedAge;
        this.sweepInterval = sweepInterval;
        Files.createDirectories(directory);
        try (Stream<Path> files = Files.list(directory)) {
            for (Path p : (Iterable<Path>) files::iterator)
                if (Files.isRegularFile(p)) held.put(p.getFileName().toString(), Files.size(p));
        }
        total = held.values().stream().mapToLong(Long::longValue).sum();
        sweep();
        if (total > maxBytes) removeIdle(total - maxBytes); // the limit may be smaller than last time
    }

    /** Refuses, with RESOURCE_EXHAUSTED, a blob that could never be uploaded within the limit. */
    void checkFits(Digest blob) {
        if (blob.getSizeBytes() > maxBytes)
            throw Status.RESOURCE_EXHAUSTED.withDescription("blob " + Digests.format(blob) + " is " + blob.getSizeBytes()
                    + " bytes, more than the " + maxBytes + " bytes partial uploads may hold (the --max-cache-size);"
                    + " the server cannot take it: start it with a larger --max-cache-size").asRuntimeException();
    }

    /** How many bytes the upload's file holds; 0 for an upload the server does not have. */
    long committedSize(String key) throws IOException {
        try {
            return Files.size(directory.resolve(key));
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    /**
     * Takes the upload for one Write call, creating its file if needed; empty when another call
     * holds it. While the lease is open the upload is never removed.
     */
    synchronized Optional<Lease> open(String key) throws IOException {
        if (!writing.add(key)) return Optional.empty();
        if (!Instant.now().isBefore(nextSweep)) sweep(); // not this upload: it is being resumed
        Path file = directory.resolve(key);
        try {
            if (!Files.exists(file)) Files.createFile(file);
            // a resumed upload is as young as its resumption, also across a restart
            Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
            account(key, Files.size(file));
        } catch (IOException e) {
            writing.remove(key);
            throw e;
        }
        return Optional.of(new Lease(key, file));
    }

    /** One Write call's hold on an upload. */
    final class Lease implements AutoCloseable {
        private final String key;
        private final Path file;

        private Lease(String key, Path file) {
            this.key = key;
            this.file = file;
        }

        Path file() {
            return file;
        }

        /**
         * Reserves room for bytes more of this upload, removing idle uploads if needed; throws
         * RESOURCE_EXHAUSTED, and removes and reserves nothing, when uploads in progress fill the
         * limit.
         */
        void reserve(long bytes) {
            synchronized (PartialUploads.this) {
                if (total + bytes > maxBytes && !removeIdle(total + bytes - maxBytes))
                    throw Status.RESOURCE_EXHAUSTED.withDescription("partial uploads hold " + total + " bytes, and "
                            + bytes + " more would pass their limit of " + maxBytes + " bytes (the --max-cache-size);"
                            + " the uploads holding them are being written now. Finish or cancel uploads in progress,"
                            + " or retry this one later from the offset QueryWriteStatus reports").asRuntimeException();
                held.merge(key, bytes, Long::sum);
                total += bytes;
            }
        }

        /** Lets go of the upload; what its file holds now (nothing once committed) is what stays accounted. */
        @Override
        public void close() {
            synchronized (PartialUploads.this) {
                try {
                    account(key, Files.size(file));
                } catch (NoSuchFileException e) {
                    account(key, -1); // committed into the store, or refused and deleted
                } catch (IOException e) {
                    // the reservation stays: counting too much is the safe side
                } finally {
                    writing.remove(key);
                }
            }
        }
    }

    /** Sets the bytes accounted to key; -1 forgets it. Guarded by this. */
    private void account(String key, long bytes) {
        Long before = bytes < 0 ? held.remove(key) : held.put(key, bytes);
        total += Math.max(bytes, 0) - (before == null ? 0 : before);
    }

    /** Removes idle uploads not written for the abandoned age. Guarded by this. */
    private void sweep() {
        nextSweep = Instant.now().plus(sweepInterval);
        FileTime cutoff = FileTime.from(Instant.now().minus(abandonedAge));
        for (Idle u : idle())
            if (u.lastWrite.compareTo(cutoff) < 0) remove(u.key);
    }

    /**
     * Removes idle uploads, the one written longest ago first, until at least bytes are freed;
     * false, having removed none, when all of them together hold less. Guarded by this.
     */
    private boolean removeIdle(long bytes) {
        List<Idle> idle = idle();
        if (idle.stream().mapToLong(Idle::bytes).sum() < bytes) return false;
        long goal = total - bytes;
        for (Idle u : idle) {
            if (total <= goal) break;
            remove(u.key);
        }
        return total <= goal; // not if a file could not be removed
    }

    private record Idle(String key, long bytes, FileTime lastWrite) {}

    /** Uploads no Write call holds, by their file's last write, oldest first. Guarded by this. */
    private List<Idle> idle() {
        List<Idle> idle = new ArrayList<>();
        for (Map.Entry<String, Long> e : held.entrySet()) {
            if (writing.contains(e.getKey())) continue;
            FileTime lastWrite;
            try {
                lastWrite = Files.getLastModifiedTime(directory.resolve(e.getKey()));
            } catch (IOException ex) {
                lastWrite = FileTime.fromMillis(0); // gone or unreadable: first to go
            }
            idle.add(new Idle(e.getKey(), e.getValue(), lastWrite));
        }
        idle.sort(Comparator.comparing(Idle::lastWrite));
        return idle;
    }

    private void remove(String key) {
        try {
            Files.deleteIfExists(directory.resolve(key));
        } catch (IOException e) {
            return; // still on disk: still counted
        }
        account(key, -1);
    }
}
