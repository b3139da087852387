package dev.paddock.remote;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Tree;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Action results on disk, one file per instance name, action digest and origin, written
 * atomically: instances share the content store but not results. A result is
 * only served while every blob it names is still in the store; otherwise it is a miss, so that an
 * eviction never hands a client an output it cannot download. A result of the server's own
 * execution is served before one a client uploaded, and no upload can replace it.
 */
final class ActionCacheStore {
    /** Who produced a result. */
    enum Origin {
        /** The server ran the action itself. */
        EXECUTED(""),
        /** A client uploaded it (UpdateActionResult), where the server allows that. */
        CLIENT(".client");

        private final String suffix;

        Origin(String suffix) {
            this.suffix = suffix;
        }
    }

    private final Path directory;
    private final BlobStore blobs;

    ActionCacheStore(Path directory, BlobStore blobs) throws IOException {
        this.directory = directory;
        this.blobs = blobs;
        Files.createDirectories(directory);
    }

    /**
     * The server's own result in this instance, else a client's, while every blob it names is in
     * the store.
     */
    Optional<ActionResult> get(String instance, Digest action) throws IOException {
        Optional<ActionResult> executed = get(instance, action, Origin.EXECUTED);
        return executed.isPresent() ? executed : get(instance, action, Origin.CLIENT);
    }

    /** Whether the server has a result of its own for the action in this instance (served or not). */
    boolean executed(String instance, Digest action) {
        return Files.exists(pathOf(instance, action, Origin.EXECUTED));
    }

    private Optional<ActionResult> get(String instance, Digest action, Origin origin) throws IOException {
        Path file = pathOf(instance, action, origin);
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        ActionResult result;
        try {
            result = ActionResult.parseFrom(data);
        } catch (InvalidProtocolBufferException e) {
            Files.deleteIfExists(file); // cannot happen through put(); a damaged file is a miss
            return Optional.empty();
        }
        for (Digest d : referencedBlobs(result)) if (!blobs.contains(d)) return Optional.empty();
        for (OutputDirectory dir : result.getOutputDirectoriesList()) {
            Optional<Tree> tree;
            try {
                tree = blobs.readMessage(dir.getTreeDigest(), Tree.parser(), "Tree");
            } catch (BadRequest e) {
                return Optional.empty();
            }
            if (tree.isEmpty()) return Optional.empty();
            for (Directory d : tree.get().getChildrenList()) if (!allFilesPresent(d)) return Optional.empty();
            if (!allFilesPresent(tree.get().getRoot())) return Optional.empty();
        }
        return Optional.of(result);
    }

    void put(String instance, Digest action, ActionResult result, Origin origin) throws IOException {
        Path target = pathOf(instance, action, origin);
        Files.createDirectories(target.getParent());
        Path temp = Files.createTempFile(blobs.tmpDirectory(), "ac", ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(temp)) {
                result.writeTo(out);
            }
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.READ)) {
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private boolean allFilesPresent(Directory d) {
        for (FileNode f : d.getFilesList()) if (!blobs.contains(f.getDigest())) return false;
        return true;
    }

    /** Every blob a result refers to directly: files, trees, stdout and stderr. */
    static List<Digest> referencedBlobs(ActionResult r) {
        List<Digest> out = new ArrayList<>();
        for (OutputFile f : r.getOutputFilesList()) out.add(f.getDigest());
        for (OutputDirectory d : r.getOutputDirectoriesList()) out.add(d.getTreeDigest());
        if (r.hasStdoutDigest()) out.add(r.getStdoutDigest());
        if (r.hasStderrDigest()) out.add(r.getStderrDigest());
        return out;
    }

    /**
     * The default instance ("") directly under ac/, every other one under ac/instances/, named by
     * the SHA-256 of its name (any string a client sends is then a safe file name).
     */
    private Path pathOf(String instance, Digest d, Origin origin) {
        Path base = instance.isEmpty() ? directory
                : directory.resolve("instances").resolve(Digests.of(ByteString.copyFromUtf8(instance)).getHash());
        return base.resolve(d.getHash().substring(0, 2)).resolve(d.getHash() + "-" + d.getSizeBytes() + origin.suffix);
    }
}
