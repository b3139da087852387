package dev.paddock.remote;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import com.google.protobuf.ByteString;
import java.util.Map;
import java.util.TreeMap;

/**
 * An input root described by paths ("in/a.txt"), turned into REAPI Directory messages: every
 * Directory and file blob goes into a map from digest to bytes, ready for BatchUpdateBlobs.
 * Entries are sorted by name, as the API asks.
 */
final class InputTree {
    private record FileEntry(ByteString content, boolean executable) {}

    private record LinkEntry(String target) {}

    private final Map<String, Object> entries = new TreeMap<>();

    InputTree file(String path, String content) {
        return file(path, ByteString.copyFromUtf8(content), false);
    }

    InputTree executable(String path, String content) {
        return file(path, ByteString.copyFromUtf8(content), true);
    }

    InputTree file(String path, ByteString content, boolean executable) {
        put(path, new FileEntry(content, executable));
        return this;
    }

    InputTree symlink(String path, String target) {
        put(path, new LinkEntry(target));
        return this;
    }

    /** An (empty unless filled) directory. */
    InputTree directory(String path) {
        subtree(path);
        return this;
    }

    private void put(String path, Object entry) {
        int slash = path.lastIndexOf('/');
        InputTree parent = slash < 0 ? this : subtree(path.substring(0, slash));
        parent.entries.put(path.substring(slash + 1), entry);
    }

    private InputTree subtree(String path) {
        InputTree at = this;
        for (String part : path.split("/")) {
            Object e = at.entries.computeIfAbsent(part, k -> new InputTree());
            if (!(e instanceof InputTree t)) throw new IllegalArgumentException(path + ": '" + part + "' is not a directory");
            at = t;
        }
        return at;
    }

    /** This directory as a message; it and every blob and subdirectory it needs are added to blobs. */
    Directory toDirectory(Map<Digest, ByteString> blobs) {
        Directory.Builder b = Directory.newBuilder();
        for (Map.Entry<String, Object> e : entries.entrySet()) {
            switch (e.getValue()) {
                case FileEntry f -> {
                    Digest d = RemoteFixture.digest(f.content());
                    blobs.put(d, f.content());
                    b.addFiles(FileNode.newBuilder().setName(e.getKey()).setDigest(d).setIsExecutable(f.executable()));
                }
                case LinkEntry l -> b.addSymlinks(SymlinkNode.newBuilder().setName(e.getKey()).setTarget(l.target()));
                case InputTree t -> {
                    Directory child = t.toDirectory(blobs);
                    b.addDirectories(DirectoryNode.newBuilder().setName(e.getKey()).setDigest(RemoteFixture.digest(child)));
                }
                default -> throw new AssertionError(e);
            }
        }
        Directory dir = b.build();
        blobs.put(RemoteFixture.digest(dir), dir.toByteString());
        return dir;
    }
}
