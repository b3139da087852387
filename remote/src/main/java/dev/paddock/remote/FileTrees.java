package dev.paddock.remote;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removing the trees actions leave behind, however deep (an action can nest directories far past
 * PATH_MAX) and including directories they made read-only. Every step is relative to an open
 * directory (openat, unlinkat), never a whole path, and only one directory is open at a time: the
 * walk goes down into a subdirectory and back up through "..".
 */
final class FileTrees {
    private static final Set<PosixFilePermission> OWNER_ALL = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);
    private static final Path HERE = Path.of(".");
    private static final Path UP = Path.of("..");

    private FileTrees() {}

    /**
     * Directories actions see read-only, each under its real path and shown at the path it was
     * given as: sandboxes follow no symbolic link in a bind, and these links are the operator's.
     */
    static Map<Path, Path> byRealPath(List<Path> directories) throws IOException {
        Map<Path, Path> out = new LinkedHashMap<>();
        for (Path p : directories) {
            if (!Files.isDirectory(p))
                throw new IOException("cannot show actions " + p + " read-only: it is not a directory");
            out.put(p.toRealPath(), p);
        }
        return out;
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) return;
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(root);
            return;
        }
        makeOwnerAccessible(Files.getFileAttributeView(root, PosixFileAttributeView.class));
        DirectoryStream<Path> opened = Files.newDirectoryStream(root);
        if (!(opened instanceof SecureDirectoryStream<Path> top)) {
            opened.close();
            throw new IOException("this platform cannot remove directory trees relative to an open directory");
        }
        Deque<Path> names = new ArrayDeque<>(); // the way down from root: one name per level
        SecureDirectoryStream<Path> current = top;
        try {
            while (true) {
                Path child = emptyAllButOneDirectory(current);
                if (child != null) {
                    // child is a directory, not a link (looked at without following): follow it here,
                    // because a no-follow chmod opens the file first, which a mode-0 directory refuses.
                    makeOwnerAccessible(current.getFileAttributeView(child, PosixFileAttributeView.class));
                    SecureDirectoryStream<Path> down = current.newDirectoryStream(child, LinkOption.NOFOLLOW_LINKS);
                    current.close();
                    current = down;
                    names.push(child);
                    continue;
                }
                if (names.isEmpty()) break;
                SecureDirectoryStream<Path> up = current.newDirectoryStream(UP);
                current.close();
                current = up;
                current.deleteDirectory(names.pop());
            }
        } finally {
            current.close();
        }
        Files.deleteIfExists(root);
    }

    /** Deletes every entry of dir but directories; returns one of those (null when there is none). */
    private static Path emptyAllButOneDirectory(SecureDirectoryStream<Path> dir) throws IOException {
        Path directory = null;
        try (SecureDirectoryStream<Path> listing = dir.newDirectoryStream(HERE, LinkOption.NOFOLLOW_LINKS)) {
            for (Path entry : listing) {
                Path name = entry.getFileName();
                boolean isDirectory;
                try {
                    isDirectory = dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                            .readAttributes().isDirectory();
                } catch (NoSuchFileException gone) {
                    continue;
                }
                if (!isDirectory) {
                    try {
                        dir.deleteFile(name);
                    } catch (NoSuchFileException gone) {
                        // removed meanwhile
                    }
                } else if (directory == null) {
                    directory = name;
                }
            }
        }
        return directory;
    }

    /** An action may leave a directory without read, write or search permission for its owner. */
    private static void makeOwnerAccessible(PosixFileAttributeView view) throws IOException {
        Set<PosixFilePermission> perms = view.readAttributes().permissions();
        if (perms.containsAll(OWNER_ALL)) return;
        Set<PosixFilePermission> wanted = EnumSet.copyOf(OWNER_ALL);
        wanted.addAll(perms);
        view.setPermissions(wanted);
    }
}
