package dev.paddock.remote;

import build.bazel.remote.execution.v2.Digest;
import java.util.List;

/**
 * ByteStream resource names: {@code [instance/]blobs/HASH/SIZE[/anything]} to read and
 * {@code [instance/]uploads/UUID/blobs/HASH/SIZE[/anything]} to write.
 *
 * @param upload the client's upload id; empty for reads
 */
record ResourceName(String upload, Digest digest) {
    static ResourceName forRead(String name) throws BadRequest {
        List<String> parts = List.of(name.split("/", -1));
        int at = parts.indexOf("blobs");
        if (at >= 0 && at + 2 < parts.size()) return new ResourceName("", digest(parts, at + 1, name));
        if (parts.contains("compressed-blobs"))
            throw new BadRequest("resource name '" + name + "': compressed blobs are not supported; read blobs/HASH/SIZE");
        throw new BadRequest("resource name '" + name + "' is not of the form [INSTANCE/]blobs/HASH/SIZE");
    }

    static ResourceName forWrite(String name) throws BadRequest {
        List<String> parts = List.of(name.split("/", -1));
        int at = parts.indexOf("uploads");
        if (at >= 0 && at + 4 < parts.size() && parts.get(at + 2).equals("blobs")) {
            String id = parts.get(at + 1);
            if (id.isEmpty() || id.length() > 128 || !id.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-' || c == '_'))
                throw new BadRequest("resource name '" + name + "': upload id '" + id
                        + "' must be 1 to 128 letters, digits, '-' or '_' (a UUID)");
            return new ResourceName(id, digest(parts, at + 3, name));
        }
        if (parts.contains("compressed-blobs"))
            throw new BadRequest("resource name '" + name + "': compressed blobs are not supported; write uploads/UUID/blobs/HASH/SIZE");
        throw new BadRequest("resource name '" + name + "' is not of the form [INSTANCE/]uploads/UUID/blobs/HASH/SIZE");
    }

    private static Digest digest(List<String> parts, int at, String name) throws BadRequest {
        long size;
        try {
            size = Long.parseLong(parts.get(at + 1));
        } catch (NumberFormatException e) {
            throw new BadRequest("resource name '" + name + "': size '" + parts.get(at + 1) + "' is not a number");
        }
        return Digests.check(Digests.of(parts.get(at), size), "resource name '" + name + "'");
    }

    /** The file name a partial upload is kept under, stable across restarts so that uploads can resume. */
    String uploadKey() {
        return upload + "-" + digest.getHash() + "-" + digest.getSizeBytes();
    }
}
