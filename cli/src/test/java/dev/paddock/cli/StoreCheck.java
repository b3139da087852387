package dev.paddock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** What a {@code paddock serve} store must look like after any stop, a SIGKILL included. */
final class StoreCheck {
    private StoreCheck() {}

    /**
     * After a restart: every stored blob's content matches the digest in its name, and nothing
     * half-written is left (the server clears tmp/ when it starts).
     */
    static void assertConsistent(Path cache) throws Exception {
        assertBlobsIntact(cache);
        try (Stream<Path> tmp = Files.list(cache.resolve("tmp"))) {
            assertEquals(List.of(), tmp.toList(), "no temporary files survive a restart");
        }
    }

    /** Every stored blob's content matches the digest in its name (writes in progress sit in tmp/). */
    static void assertBlobsIntact(Path cache) throws Exception {
        int blobs = 0;
        for (String top : List.of("cas", "cas-exec")) {
            try (Stream<Path> files = Files.walk(cache.resolve(top))) {
                for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                    String name = f.getFileName().toString();
                    assertEquals(name.substring(0, 64), sha256(f), "blob " + f + " holds what its name says");
                    assertEquals(Long.parseLong(name.substring(65)), Files.size(f));
                    blobs++;
                }
            }
        }
        assertTrue(blobs > 0);
    }

    static String sha256(Path f) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
