package dev.paddock.remote;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FileNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The content-addressable store on disk: one read-only file per blob, named by its digest, and a
 * second, executable copy for blobs that actions need executable (a file's mode belongs to its
 * inode, and inputs are hard-linked from here). Both are the serving user's only (0400 and 0500):
 * actions run as that user, and nobody else needs to read the builds' sources and outputs. Blobs
 * are verified before they are stored and written atomically (temporary file, fsync, rename), so a
 * crash leaves either the whole blob or none of it. Least recently used blobs are evicted when the
 * store grows past its limit, except blobs pinned by a running action and the empty blob.
 */
final class BlobStore {
    /** Blobs at most this large may be read whole into memory (batch reads, Action, Command, Directory). */
    static final int MAX_INLINE_BYTES = 64 << 20;
    private static final long DISK_TOUCH_INTERVAL_MS = 10 * 60 * 1000;

    private final Path blobs;
    private final Path executables;
    private final Path tmp;
    private final long maxBytes;
    private final Map<String, Entry> index = new ConcurrentHashMap<>();
    private final Map<String, Integer> pins = new HashMap<>(); // guarded by this
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong clock = new AtomicLong();

    private static final class Entry {
        final Path path;
        final String digestKey;
        final long size;
        volatile long lastUse;
        volatile long diskTouchedMs;

        Entry(Path path, String digestKey, long size, long lastUse, long diskTouchedMs) {
            this.path = path;
            this.digestKey = digestKey;
            this.size = size;
            this.lastUse = lastUse;
            this.diskTouchedMs = diskTouchedMs;
        }
    }

    /** Blobs an action holds on to: none of them is evicted until this is closed. */
    final class Pin implements AutoCloseable {
        private final List<String> keys = new ArrayList<>();

        void add(Digest d) {
            String key = key(d);
            synchronized (BlobStore.this) {
                pins.merge(key, 1, Integer::sum);
            }
            synchronized (keys) {
                keys.add(key);
            }
        }

        @Override
        public void close() {
            synchronized (keys) {
                synchronized (BlobStore.this) {
                    for (String k : keys) pins.computeIfPresent(k, (x, n) -> n == 1 ? null : n - 1);
                }
                keys.clear();
            }
        }
    }

    /**
     * Opens (creating if needed) the store under directory: blobs in cas/, executable copies in
     * cas-exec/, and tmp/ for writes in progress, which a previous crash may have left and which
     * are removed here.
     */
    BlobStore(Path directory, long maxBytes) throws IOException {
        this.blobs = directory.resolve("cas");
        this.executables = directory.resolve("cas-exec");
        this.tmp = directory.resolve("tmp");
        this.maxBytes = maxBytes;
        Files.createDirectories(blobs);
        Files.createDirectories(executables);
        FileTrees.deleteRecursively(tmp);
        Files.createDirectories(tmp);
        record Found(Path path, String key, long size, long mtime) {}
        List<Found> found = new ArrayList<>();
        for (Path top : List.of(blobs, executables)) {
            try (Stream<Path> files = Files.walk(top, 2)) {
                for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                    Optional<Digest> d = parseName(p.getFileName().toString());
                    if (d.isEmpty()) continue; // not ours: leave it alone
                    found.add(new Found(p, key(d.get()), Files.size(p), Files.getLastModifiedTime(p).toMillis()));
                }
            }
        }
        found.sort(Comparator.comparingLong(Found::mtime));
        for (Found f : found) {
            index.put(f.path.toString(), new Entry(f.path, f.key, f.size, clock.incrementAndGet(), f.mtime));
            bytes.addAndGet(f.size);
        }
        if (!contains(Digests.EMPTY)) store(Digests.EMPTY, ByteString.EMPTY);
    }

    /** Bytes held on disk, executable copies included. */
    long sizeBytes() {
        return bytes.get();
    }

    long maxBytes() {
        return maxBytes;
    }

    Path tmpDirectory() {
        return tmp;
    }

    Pin pin() {
        return new Pin();
    }

    boolean contains(Digest d) {
        return entry(pathOf(blobs, d)) != null;
    }

    /** The blob's file, to read or hard-link; empty when the store lacks it. */
    Optional<Path> find(Digest d) {
        Entry e = entry(pathOf(blobs, d));
        return e == null ? Optional.empty() : Optional.of(e.path);
    }

    /**
     * The stored file an input needs (the executable copy for an executable input); the action
     * pins its inputs, so a missing one means the store was changed behind the server's back.
     */
    Path input(FileNode f) throws IOException {
        Optional<Path> blob = f.getIsExecutable() ? findExecutable(f.getDigest()) : find(f.getDigest());
        if (blob.isEmpty()) throw new IOException("input blob " + Digests.format(f.getDigest()) + " vanished from the store");
        return blob.get();
    }

    /** An executable (0500) copy of the blob, made on first use; empty when the store lacks the blob. */
    Optional<Path> findExecutable(Digest d) throws IOException {
        Optional<Path> source = find(d);
        if (source.isEmpty()) return Optional.empty();
        Path target = pathOf(executables, d);
        if (entry(target) != null) return Optional.of(target);
        Path temp = Files.createTempFile(tmp, "x", ".tmp");
        try {
            Files.copy(source.get(), temp, StandardCopyOption.REPLACE_EXISTING);
            commit(temp, target, d, "r-x------");
        } finally {
            Files.deleteIfExists(temp);
        }
        return Optional.of(target);
    }

    /** The whole blob; for blobs up to {@link #MAX_INLINE_BYTES}. Empty when the store lacks it. */
    Optional<ByteString> read(Digest d) throws IOException, BadRequest {
        Optional<Path> p = find(d);
        if (p.isEmpty()) return Optional.empty();
        if (d.getSizeBytes() > MAX_INLINE_BYTES)
            throw new BadRequest("blob " + Digests.format(d) + " is larger than the " + MAX_INLINE_BYTES
                    + " bytes a message (Action, Command, Directory, Tree) may have");
        try (InputStream in = Files.newInputStream(p.get())) {
            return Optional.of(ByteString.readFrom(in));
        } catch (NoSuchFileException e) {
            forget(p.get());
            return Optional.empty();
        }
    }

    /** The blob parsed as a message; empty when the store lacks it. Throws BadRequest if it does not parse. */
    <T> Optional<T> readMessage(Digest d, Parser<T> parser, String what) throws IOException, BadRequest {
        Optional<ByteString> data = read(d);
        if (data.isEmpty()) return Optional.empty();
        try {
            return Optional.of(parser.parseFrom(data.get()));
        } catch (InvalidProtocolBufferException e) {
            throw new BadRequest("blob " + Digests.format(d) + " is not a valid " + what + ": " + e.getMessage());
        }
    }

    /** Stores data under its digest, which must be expected's; a mismatch is a BadRequest and stores nothing. */
    void put(Digest expected, ByteString data) throws IOException, BadRequest {
        Digest actual = Digests.of(data);
        if (!actual.equals(expected))
            throw new BadRequest("data does not match digest " + Digests.format(expected) + ": its digest is "
                    + Digests.format(actual));
        store(expected, data);
    }

    private void store(Digest d, ByteString data) throws IOException {
        if (contains(d)) return;
        Path temp = Files.createTempFile(tmp, "b", ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(temp)) {
                data.writeTo(out);
            }
            commit(temp, pathOf(blobs, d), d, "r--------");
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Stores a message (a Tree, a Directory) and returns its digest. */
    Digest put(com.google.protobuf.MessageLite message) throws IOException {
        ByteString data = message.toByteString();
        Digest d = Digests.of(data);
        store(d, data);
        return d;
    }

    /**
     * Moves a complete file into the store if its content matches expected (ByteStream uploads);
     * on a mismatch throws BadRequest and deletes the file.
     */
    void commitUpload(Path file, Digest expected) throws IOException, BadRequest {
        Digest actual = hash(file);
        if (!actual.equals(expected)) {
            Files.deleteIfExists(file);
            throw new BadRequest("uploaded data does not match digest " + Digests.format(expected)
                    + ": its digest is " + Digests.format(actual));
        }
        if (contains(expected)) {
            Files.deleteIfExists(file);
            return;
        }
        commit(file, pathOf(blobs, expected), expected, "r--------");
    }

    /**
     * Adds a file an action produced and returns its digest. A file only the action's output
     * names is hard-linked (and made read-only) rather than rewritten; one with other links, which
     * the action may have linked from elsewhere, is copied, so that the server never changes the
     * mode of an inode it does not own alone.
     */
    Digest ingest(Path file) throws IOException {
        Digest d = hash(file);
        if (contains(d)) return d;
        Path temp = tmp.resolve("i" + Thread.currentThread().threadId() + "-" + System.nanoTime() + ".tmp");
        try {
            boolean linked = false;
            if ((Integer) Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS) == 1) {
                try {
                    Files.createLink(temp, file);
                    linked = true;
                } catch (IOException | UnsupportedOperationException e) {
                    // another file system: copy
                }
            }
            if (!linked) Files.copy(file, temp, LinkOption.NOFOLLOW_LINKS);
            commit(temp, pathOf(blobs, d), d, "r--------");
        } finally {
            Files.deleteIfExists(temp);
        }
        return d;
    }

    /** The digest of a file's content, read in chunks. */
    static Digest hash(Path file) throws IOException {
        MessageDigest md = Digests.sha256();
        long size = 0;
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            int n;
            while ((n = ch.read(buf.clear())) >= 0) {
                md.update(buf.flip());
                size += n;
            }
        }
        return Digests.of(HexFormat.of().formatHex(md.digest()), size);
    }

    private void commit(Path temp, Path target, Digest d, String mode) throws IOException {
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString(mode));
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.READ)) {
            ch.force(true);
        }
        Files.createDirectories(target.getParent());
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            return; // a concurrent writer stored the same content
        }
        long now = System.currentTimeMillis();
        Entry fresh = new Entry(target, key(d), d.getSizeBytes(), clock.incrementAndGet(), now);
        if (index.putIfAbsent(target.toString(), fresh) == null) bytes.addAndGet(d.getSizeBytes());
        if (bytes.get() > maxBytes) evict();
    }

    /** Evicts least recently used blobs until the store is at 90% of its limit. */
    private synchronized void evict() {
        if (bytes.get() <= maxBytes) return;
        long goal = maxBytes / 10 * 9;
        List<Entry> byAge = new ArrayList<>(index.values());
        byAge.sort(Comparator.comparingLong(e -> e.lastUse));
        String empty = key(Digests.EMPTY);
        for (Entry e : byAge) {
            if (bytes.get() <= goal) break;
            if (pins.containsKey(e.digestKey) || e.digestKey.equals(empty)) continue;
            try {
                Files.deleteIfExists(e.path);
            } catch (IOException ex) {
                continue;
            }
            forget(e.path);
        }
    }

    private void forget(Path p) {
        Entry e = index.remove(p.toString());
        if (e != null) bytes.addAndGet(-e.size);
    }

    private Entry entry(Path p) {
        if (p == null) return null;
        Entry e = index.get(p.toString());
        if (e == null) return null;
        e.lastUse = clock.incrementAndGet();
        long now = System.currentTimeMillis();
        if (now - e.diskTouchedMs > DISK_TOUCH_INTERVAL_MS) {
            // Keep the on-disk order close to the in-memory one, so a restart evicts in the same order.
            e.diskTouchedMs = now;
            try {
                Files.setLastModifiedTime(p, FileTime.fromMillis(now));
            } catch (IOException ex) {
                if (!Files.exists(p)) {
                    forget(p);
                    return null;
                }
            }
        }
        return e;
    }

    private static String key(Digest d) {
        return d.getHash() + "-" + d.getSizeBytes();
    }

    /** Where the blob lives under top; null for a malformed digest, which the store cannot hold. */
    private static Path pathOf(Path top, Digest d) {
        if (d.getHash().length() != 64 || d.getHash().indexOf('/') >= 0 || d.getSizeBytes() < 0) return null;
        return top.resolve(d.getHash().substring(0, 2)).resolve(key(d));
    }

    private static Optional<Digest> parseName(String name) {
        int dash = name.indexOf('-');
        if (dash != 64) return Optional.empty();
        try {
            return Optional.of(Digests.check(Digests.of(name.substring(0, 64), Long.parseLong(name.substring(65))), name));
        } catch (NumberFormatException | BadRequest e) {
            return Optional.empty();
        }
    }
}
