package dev.paddock.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The runner's trash: trees leave their place at once and are deleted by its own thread. */
@Timeout(60)
class TrashTest {
    private Path build;
    private final List<String> log = new ArrayList<>();

    @BeforeEach
    void makeBuildDirectory() throws IOException {
        build = Files.createTempDirectory("paddock-trash-test");
    }

    @AfterEach
    void deleteBuildDirectory() throws IOException {
        deleteTree(build);
    }

    @Test
    void treesAndLinksLeaveAtOnceAndAreDeletedAfter() throws Exception {
        Path root = Files.createDirectories(build.resolve("action/root"));
        Files.createDirectories(root.resolve("proc"));
        Files.createDirectories(root.resolve("usr/lib/jvm"));
        Files.createSymbolicLink(root.resolve("bin"), Path.of("usr/bin"));
        Files.writeString(root.resolve("output.txt"), "stays\n");
        try (Trash trash = new Trash(build, log::add)) {
            for (String name : List.of("proc", "usr", "bin")) {
                trash.remove(root.resolve(name));
                assertFalse(Files.exists(root.resolve(name), LinkOption.NOFOLLOW_LINKS), name + " left at once");
            }
            assertEquals(List.of("output.txt"), names(root));
            trash.awaitDeleted();
            List<Path> trashes = trashDirectories();
            assertEquals(1, trashes.size(), "one trash directory: " + trashes);
            assertEquals(List.of(), names(trashes.getFirst()), "the trash is empty once deleted");
        }
        assertEquals(List.of("action"), names(build), "closing the trash removes its directory");
        assertEquals(List.of(), log);
    }

    @Test
    void aTrashLeftByAnEarlierRunnerIsDeletedAtStart() throws Exception {
        Path old = Files.createDirectories(build.resolve(".paddock-trash-12345/7/lib/jvm"));
        try (Trash trash = new Trash(build, log::add)) {
            trash.awaitDeleted();
            assertFalse(Files.exists(old), "the earlier trash is deleted");
            assertEquals(1, trashDirectories().size());
        }
        assertEquals(List.of(), names(build));
    }

    @Test
    void aTrashDirectoryRemovedBySomeoneElseIsMadeAgain() throws Exception {
        Path root = Files.createDirectories(build.resolve("action/root"));
        try (Trash trash = new Trash(build, log::add)) {
            // bb_worker empties its build directory when it is idle.
            for (Path t : trashDirectories()) deleteTree(t);
            Files.createDirectories(root.resolve("dev"));
            trash.remove(root.resolve("dev"));
            assertEquals(List.of(), names(root));
            trash.awaitDeleted();
            List<Path> trashes = trashDirectories();
            assertEquals(1, trashes.size(), "a new trash directory: " + trashes);
            assertEquals(List.of(), names(trashes.getFirst()));
        }
        assertEquals(List.of("action"), names(build));
    }

    @Test
    void aTreeOnAnotherFileSystemIsDeletedInPlaceAndAMissingOneIsNoError() throws Exception {
        // /dev/shm is a tmpfs; the build directory is the test's temporary directory.
        Path elsewhere = Files.createTempDirectory(Path.of("/dev/shm"), "paddock-trash-test");
        try (Trash trash = new Trash(build, log::add)) {
            Files.createDirectories(elsewhere.resolve("tmp/a"));
            trash.remove(elsewhere.resolve("tmp"));
            assertEquals(List.of(), names(elsewhere));
            trash.remove(elsewhere.resolve("never-there"));
        } finally {
            deleteTree(elsewhere);
        }
        assertEquals(List.of(), log);
    }

    private List<Path> trashDirectories() throws IOException {
        try (Stream<Path> s = Files.list(build)) {
            return s.filter(p -> p.getFileName().toString().startsWith(".paddock-trash-")).toList();
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
