package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.paddock.testing.HostTools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Overlays for toolchain layers, through each implementation of the fallback chain. */
class SandboxOverlayTest extends SandboxedTest {
    @TempDir
    Path dir;

    private Path bottom;
    private Path top;
    private final Path dest = Path.of("/tmp/layered");

    @BeforeEach
    void layers() throws Exception {
        bottom = Files.createDirectories(dir.resolve("bottom"));
        top = Files.createDirectories(dir.resolve("top"));
        Files.writeString(bottom.resolve("shared"), "bottom\n");
        Files.writeString(bottom.resolve("only-bottom"), "bottom\n");
        Files.writeString(top.resolve("shared"), "top\n");
    }

    /** Forcing an implementation that needs FUSE: skip where this user may not use /dev/fuse. */
    private static void assumeAvailable(Sandbox.OverlayImpl impl) {
        if (impl != Sandbox.OverlayImpl.FUSE) return;
        HostTools.require("fuse-overlayfs", "fuse-overlayfs");
        Path fuse = Path.of("/dev/fuse");
        assumeTrue(Files.isReadable(fuse) && Files.isWritable(fuse),
                "FUSE is unavailable to this user (/dev/fuse missing or not read-writable)");
    }

    private Outcome run(String script, Sandbox sandbox, StringBuilder out) throws Exception {
        Execution e = paddock.start(Action.newBuilder("sh", "-c", script).directory(dir)
                .stdout(Stdio.pipe()).sandbox(sandbox).build());
        out.append(new String(e.stdout().readAllBytes(), StandardCharsets.UTF_8));
        return e.await();
    }

    @ParameterizedTest
    @EnumSource(value = Sandbox.OverlayImpl.class, names = {"KERNEL", "FUSE", "BIND"})
    void tmpOverlayMergesLayersAndKeepsThemUnchanged(Sandbox.OverlayImpl impl) throws Exception {
        assumeAvailable(impl);
        StringBuilder out = new StringBuilder();
        Outcome o = run("cat " + dest + "/shared " + dest + "/only-bottom; echo new > " + dest + "/new && cat "
                        + dest + "/new; echo changed > " + dest + "/shared 2>/dev/null; cat " + dest + "/shared",
                Sandbox.newBuilder().overlayImpl(impl).overlay(List.of(bottom, top), dest).build(), out);
        assertEquals(0, o.exitCode(), o + "\n" + out);
        assertEquals(Map.of(dest.toString(), impl.name().toLowerCase()), o.overlays());
        assertTrue(o.degradations().isEmpty(), o.degradations().toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals(List.of("top", "bottom", "new"), lines.subList(0, 3), "the top layer wins: " + out);
        // Kernel and FUSE overlays copy a changed file up; the bind fallback keeps the layers read-only.
        assertEquals(impl == Sandbox.OverlayImpl.BIND ? "top" : "changed", lines.get(3), out.toString());
        assertEquals("top\n", Files.readString(top.resolve("shared")), "a lower layer changed");
        assertEquals("bottom\n", Files.readString(bottom.resolve("shared")), "a lower layer changed");
        assertFalse(Files.exists(top.resolve("new")) || Files.exists(bottom.resolve("new")), "a write reached a layer");
    }

    @ParameterizedTest
    @EnumSource(value = Sandbox.OverlayImpl.class, names = {"KERNEL", "FUSE"})
    void writesLandInTheUpperDirectory(Sandbox.OverlayImpl impl) throws Exception {
        assumeAvailable(impl);
        Path upper = Files.createDirectories(dir.resolve("upper"));
        Path work = Files.createDirectories(dir.resolve("work"));
        StringBuilder out = new StringBuilder();
        Outcome o = run("echo kept > " + dest + "/new && echo changed > " + dest + "/shared",
                Sandbox.newBuilder().overlayImpl(impl).overlay(List.of(bottom, top), dest, upper, work).build(), out);
        assertEquals(0, o.exitCode(), o + "\n" + out);
        assertEquals("kept\n", Files.readString(upper.resolve("new")));
        assertEquals("changed\n", Files.readString(upper.resolve("shared")));
        assertEquals("top\n", Files.readString(top.resolve("shared")), "a lower layer changed");
    }

    @ParameterizedTest
    @EnumSource(value = Sandbox.OverlayImpl.class, names = {"KERNEL", "FUSE", "BIND"})
    void readOnlyOverlayRefusesWrites(Sandbox.OverlayImpl impl) throws Exception {
        assumeAvailable(impl);
        StringBuilder out = new StringBuilder();
        Outcome o = run("cat " + dest + "/shared; touch " + dest + "/new 2>&1",
                Sandbox.newBuilder().overlayImpl(impl).readOnlyOverlay(List.of(top), dest).build(), out);
        assertEquals(1, o.exitCode(), o + "\n" + out);
        assertTrue(out.toString().startsWith("top\n") && out.toString().contains("Read-only file system"),
                out.toString());
    }

    /**
     * AUTO falls back step by step and says so: upper and work directories on different
     * filesystems make the kernel refuse the overlay; fuse-overlayfs then mounts it where this
     * user may use FUSE, and read-only binds do where it may not.
     */
    @Test
    void autoFallsBackAndReportsEachStep() throws Exception {
        Path upper = Files.createDirectories(dir.resolve("upper"));
        Path work = Files.createTempDirectory(Path.of("/dev/shm"), "paddock-work");
        assumeTrue(!Files.getFileStore(upper).equals(Files.getFileStore(work)),
                "needs /dev/shm on a different filesystem from the temporary directory");
        try {
            StringBuilder out = new StringBuilder();
            Outcome o = run("cat " + dest + "/shared",
                    Sandbox.newBuilder().overlay(List.of(bottom, top), dest, upper, work).build(), out);
            assertEquals(0, o.exitCode(), o + "\n" + out);
            assertEquals("top\n", out.toString());
            List<Degradation> steps = o.degradations();
            assertFalse(steps.isEmpty(), "no fallback reported: " + o);
            assertEquals("overlay", steps.get(0).step());
            assertEquals("kernel", steps.get(0).from());
            assertEquals("fuse", steps.get(0).to());
            assertEquals(steps.getLast().to(), o.overlays().get(dest.toString()), o.toString());
            assertTrue(o.toJson().contains("\"degradations\""), o.toJson());
        } finally {
            try (var tree = Files.walk(work)) {
                for (Path p : tree.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }
}
