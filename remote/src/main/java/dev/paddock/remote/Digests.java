package dev.paddock.remote;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 digests as the Remote Execution API spells them: 64 lowercase hex digits and a size. */
final class Digests {
    static final Digest EMPTY = of(ByteString.EMPTY);

    private Digests() {}

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JVM has SHA-256", e);
        }
    }

    static Digest of(ByteString data) {
        MessageDigest md = sha256();
        data.asReadOnlyByteBufferList().forEach(md::update);
        return Digest.newBuilder().setHash(HexFormat.of().formatHex(md.digest())).setSizeBytes(data.size()).build();
    }

    static Digest of(MessageLite message) {
        return of(message.toByteString());
    }

    static Digest of(String hash, long size) {
        return Digest.newBuilder().setHash(hash).setSizeBytes(size).build();
    }

    /** "hash/size", as in resource names and log lines. */
    static String format(Digest d) {
        return d.getHash() + "/" + d.getSizeBytes();
    }

    /** Refuses anything but a well-formed SHA-256 digest; where says which field it came from. */
    static Digest check(Digest d, String where) throws BadRequest {
        String h = d.getHash();
        if (h.length() != 64 || !isLowerHex(h))
            throw new BadRequest(where + ": '" + h + "' is not a SHA-256 hash (64 lowercase hex digits)");
        if (d.getSizeBytes() < 0) throw new BadRequest(where + ": size " + d.getSizeBytes() + " is negative");
        return d;
    }

    /** This server hashes with SHA-256 only; UNKNOWN means the default, which is SHA-256. */
    static void checkFunction(DigestFunction.Value f) throws BadRequest {
        if (f != DigestFunction.Value.UNKNOWN && f != DigestFunction.Value.SHA256)
            throw new BadRequest("digest_function " + f + " is not supported: this server uses SHA256 only");
    }

    private static boolean isLowerHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) return false;
        }
        return true;
    }
}
