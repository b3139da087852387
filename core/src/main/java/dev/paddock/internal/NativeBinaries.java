package dev.paddock.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The native programs shipped inside the core jar (the launcher and the
 * benchmark baselines), extracted on first use into a per-user cache directory
 * keyed by their hash, and verified once per JVM before use.
 */
public final class NativeBinaries {
    private NativeBinaries() {}

    public static final String LAUNCHER = "paddock-launch";
    public static final String C_SPAWN_BASELINE = "c-posix-spawn";

    private static final Map<String, Path> VERIFIED = new ConcurrentHashMap<>();

    /** The path of a verified, executable copy of the named program. */
    public static Path path(String name) {
        return VERIFIED.computeIfAbsent(name, n -> {
            try {
                return extract(n);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot install paddock's native program " + n + ": " + e.getMessage(), e);
            }
        });
    }

    private static Path extract(String name) throws IOException {
        byte[] bytes;
        try (InputStream in = NativeBinaries.class.getResourceAsStream("native/" + name)) {
            if (in == null)
                throw new IOException("the paddock-core jar has no native/" + name + " (was it built without native/build.sh?)");
            bytes = in.readAllBytes();
        }
        String hash = sha256(bytes);
        Path dir = cacheDirectory().resolve("bin-" + hash.substring(0, 16));
        Files.createDirectories(dir);
        Path target = dir.resolve(name);
        if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) && hash.equals(sha256(Files.readAllBytes(target))))
            return target;
        // Write beside the target and rename, so a concurrent JVM never runs a half-written file.
        Path temp = Files.createTempFile(dir, name, ".tmp");
        try {
            Files.write(temp, bytes);
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        if (!hash.equals(sha256(Files.readAllBytes(target))))
            throw new IOException(target + " does not match the launcher in the jar after writing it");
        return target;
    }

    /**
     * $XDG_CACHE_HOME/paddock, else ~/.cache/paddock, else a private 0700
     * directory /tmp/paddock-UID (for users without a writable home) whose
     * owner and mode are checked, since anyone could have created it first.
     */
    public static Path cacheDirectory() throws IOException {
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()) {
            Path dir = Path.of(xdg, "paddock");
            if (tryCreate(dir)) return dir;
        }
        String home = System.getProperty("user.home");
        if (home != null && !home.isEmpty() && !home.equals("?")) {
            Path dir = Path.of(home, ".cache", "paddock");
            if (tryCreate(dir)) return dir;
        }
        int uid = Native.getuid();
        Path dir = Path.of(System.getProperty("java.io.tmpdir", "/tmp"), "paddock-" + uid);
        Set<PosixFilePermission> privateMode = PosixFilePermissions.fromString("rwx------");
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(privateMode));
        } catch (FileAlreadyExistsException e) {
            // checked below
        }
        Object owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !Integer.valueOf(uid).equals(owner)
                || !Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(privateMode))
            throw new IOException(dir + " exists but is not a directory owned by uid " + uid
                    + " with mode 0700; remove it or set XDG_CACHE_HOME to a private directory");
        return dir;
    }

    private static boolean tryCreate(Path dir) {
        try {
            Files.createDirectories(dir);
            return Files.isWritable(dir);
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
