package dev.paddock.remote;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Input subtrees laid out once per Directory digest and shared by every action that has them:
 * the sandbox binds one read-only where the action's input tree has it, so an action with the
 * same toolchain or source directory as the last one makes no directory and no link for it. The
 * files are hard links into the store (an evicted blob's inode lives on until its trees go).
 * Least recently used trees nobody holds are removed past {@code maxTrees}; all are removed when
 * the server starts, since they are derived from the store.
 */
final class InputTrees {
    /** Trees kept by default: enough for the subtrees of many builds at once. */
    static final int DEFAULT_MAX_TREES = 4096;

    private final Path directory;
    private final BlobStore store;
    private final int maxTrees;
    /** Laid-out trees by digest key, least recently used first; guarded by this. */
    private final LinkedHashMap<String, Entry> trees = new LinkedHashMap<>(16, 0.75f, true);

    private static final class Entry {
        final Path path;
        int holders;

        Entry(Path path) {
            this.path = path;
        }
    }

    InputTrees(Path directory, BlobStore store, int maxTrees) throws IOException {
        this.directory = directory;
        this.store = store;
        this.maxTrees = maxTrees;
        FileTrees.deleteRecursively(directory);
        Files.createDirectories(directory);
    }

    /** Trees an action holds: none of them is removed until this is closed. */
    final class Lease implements AutoCloseable {
        private final List<String> held = new ArrayList<>();

        /**
         * The laid-out tree of digest, laid out now if no action has had it since it was last
         * removed. Every blob it names must be pinned by the caller.
         */
        Path tree(Digest digest, Map<Digest, Directory> inputs) throws IOException, BadRequest {
            String key = Digests.format(digest);
            Entry e;
            synchronized (InputTrees.this) {
                e = trees.get(key);
                if (e != null) {
                    e.holders++;
                    held.add(key);
                    return e.path;
                }
            }
            // Laid out outside the lock, under a private name, and renamed into place: two actions
            // that need the same new tree each lay it out, and the first rename wins.
            Path target = directory.resolve(digest.getHash() + "-" + digest.getSizeBytes());
            Path temp = directory.resolve("new-" + UUID.randomUUID());
            Files.createDirectory(temp);
            try {
                layOut(inputs, digest, temp);
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException lost) {
                FileTrees.deleteRecursively(temp); // another action laid it out first: use that one
            } catch (IOException | BadRequest | RuntimeException failed) {
                FileTrees.deleteRecursively(temp);
                throw failed;
            }
            List<Path> evicted;
            synchronized (InputTrees.this) {
                e = trees.computeIfAbsent(key, k -> new Entry(target));
                e.holders++;
                held.add(key);
                evicted = evictable();
            }
            for (Path p : evicted) FileTrees.deleteRecursively(p);
            return target;
        }

        @Override
        public void close() throws IOException {
            List<Path> evicted;
            synchronized (InputTrees.this) {
                for (String key : held) {
                    Entry e = trees.get(key);
                    if (e != null) e.holders--;
                }
                held.clear();
                evicted = evictable();
            }
            for (Path p : evicted) FileTrees.deleteRecursively(p);
        }
    }

    Lease lease() {
        return new Lease();
    }

    /** Number of trees laid out now (for tests and metrics). */
    synchronized int size() {
        return trees.size();
    }

    /**
     * Takes the least recently used trees nobody holds, past maxTrees, out of the map and out of
     * their place (so that one laid out again under the same name is never the one being
     * removed); the caller removes them outside the lock. Guarded by this.
     */
    private List<Path> evictable() throws IOException {
        List<Path> out = new ArrayList<>();
        var it = trees.entrySet().iterator();
        while (trees.size() > maxTrees && it.hasNext()) {
            Entry e = it.next().getValue();
            if (e.holders > 0) continue;
            it.remove();
            Path aside = directory.resolve("old-" + UUID.randomUUID());
            Files.move(e.path, aside, StandardCopyOption.ATOMIC_MOVE);
            out.add(aside);
        }
        return out;
    }

    /** The files of digest's tree as hard links into the store (copies where linking fails), read-only. */
    private void layOut(Map<Digest, Directory> inputs, Digest digest, Path at) throws IOException, BadRequest {
        Directory dir = inputs.get(digest);
        Set<String> names = new HashSet<>();
        for (FileNode f : dir.getFilesList()) {
            Path target = at.resolve(ActionRunner.checkName(f.getName(), names));
            Path blob = store.input(f);
            try {
                Files.createLink(target, blob);
            } catch (IOException e) {
                // another file system, or the blob's link count is at the file system's limit
                Files.copy(blob, target);
            }
        }
        for (SymlinkNode s : dir.getSymlinksList())
            Files.createSymbolicLink(at.resolve(ActionRunner.checkName(s.getName(), names)), Path.of(s.getTarget()));
        for (DirectoryNode d : dir.getDirectoriesList()) {
            Path sub = at.resolve(ActionRunner.checkName(d.getName(), names));
            Files.createDirectory(sub);
            layOut(inputs, d.getDigest(), sub);
        }
    }
}
