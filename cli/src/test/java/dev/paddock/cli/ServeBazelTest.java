package dev.paddock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.paddock.testing.HostTools;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end with a real REAPI client: Bazel 4.2.3 (Debian's bazel-bootstrap) builds a workspace
 * of genrules and a cc_binary against {@code paddock serve}, started as users start it. Offline,
 * Bazel needs local stand-ins for rules_cc, rules_java and remote_coverage_tools; they forward to
 * Bazel's native rules.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ServeBazelTest {
    private static final List<String> OUTPUTS = List.of("greeting.txt", "shout.txt", "hello");

    @TempDir
    Path dir;
    private Path workspace;
    /** Bazel's state: outside the JUnit temp directory, whose clean-up warns about every link into /usr/share/bazel. */
    private Path bazelRoot;
    private final List<ServeProcess> servers = new ArrayList<>();

    @BeforeEach
    void stageWorkspace() throws IOException, URISyntaxException {
        HostTools.require("bazel-bootstrap", "bazel");
        Path resources = Path.of(ServeBazelTest.class.getResource("bazel-e2e").toURI());
        copyTree(resources, dir);
        workspace = dir.resolve("workspace");
        BazelWorkspace.prepare(workspace, dir.resolve("stand-ins"));
        bazelRoot = Files.createTempDirectory("paddock-bazel-");
    }

    @AfterEach
    void stopServers() throws IOException, InterruptedException {
        try (Stream<Path> links = Files.list(workspace)) { // Bazel's convenience links point out of the test's directory
            for (Path l : (Iterable<Path>) links.filter(Files::isSymbolicLink)::iterator) Files.delete(l);
        }
        for (ServeProcess s : servers) s.close();
        if (bazelRoot != null) { // Bazel makes parts of its tree read-only
            new ProcessBuilder("chmod", "-R", "u+rwX", bazelRoot.toString()).inheritIO().start().waitFor();
            new ProcessBuilder("rm", "-rf", bazelRoot.toString()).inheritIO().start().waitFor();
        }
    }

    @Test
    void remoteBuildMatchesTheLocalBuildAndACleanRebuildIsServedFromTheCache() throws Exception {
        Bazel local = bazel("build", "//:all");
        assertEquals(0, local.exitCode(), local.output());
        List<String> localDigests = outputDigests();
        assertEquals(0, bazel("clean").exitCode());

        int port = startServer(dir.resolve("cache"));
        Bazel remote = bazel("build", "--remote_executor=grpc://127.0.0.1:" + port, "//:all");
        assertEquals(0, remote.exitCode(), remote.output());
        assertTrue(remote.output().matches("(?s).*\\d+ processes: \\d+ internal, 4 remote\\..*"),
                "the genrules and the cc_binary's compile and link ran remotely:\n" + remote.output());
        assertEquals(localDigests, outputDigests(), "remote outputs are identical to local ones");
        assertEquals("hello from cc_binary\n", run(workspace.resolve("bazel-bin/hello")));

        assertEquals(0, bazel("clean").exitCode());
        Bazel again = bazel("build", "--remote_executor=grpc://127.0.0.1:" + port, "//:all");
        assertEquals(0, again.exitCode(), again.output());
        Matcher processes = Pattern.compile("(\\d+) processes: (.*)").matcher(again.output());
        assertTrue(processes.find(), again.output());
        assertTrue(processes.group(2).matches("\\d+ remote cache hit, \\d+ internal\\."),
                "after bazel clean every action is a remote cache hit: " + processes.group());
        assertEquals(localDigests, outputDigests());
    }

    @Test
    void aFailingActionSurfacesItsExitCodeAndStderr() throws Exception {
        int port = startServer(dir.resolve("cache"));
        Bazel failed = bazel("build", "--remote_executor=grpc://127.0.0.1:" + port, "//fail:fail");
        assertNotEquals(0, failed.exitCode());
        assertTrue(failed.output().contains("paddock-e2e-boom"), "the action's stderr is shown:\n" + failed.output());
        assertTrue(failed.output().contains("Exit 3"), "the action's exit code is shown:\n" + failed.output());
    }

    /**
     * The server is killed (SIGKILL) while Bazel uploads a 128 MiB input; the partial upload is
     * left on disk. Restarted on the same store, the server finds every stored blob intact, and
     * the build succeeds.
     */
    @Test
    void theServerKilledMidUploadAndRestartedLeavesAConsistentStore() throws Exception {
        Path cache = dir.resolve("cache");
        writeRandom(workspace.resolve("big/data.bin"), 128 << 20);
        int port = startServer(cache);
        Process server = servers.getLast().process;
        Path uploads = cache.resolve("uploads");
        Bazel[] interrupted = new Bazel[1];
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            uploads.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
            Thread build = Thread.ofPlatform().start(() -> {
                try {
                    interrupted[0] = bazel("build", "--remote_executor=grpc://127.0.0.1:" + port, "--remote_retries=0", "//big:count");
                } catch (IOException | InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            // Bazel uploads small blobs through ByteStream too: wait for the large one's partial file.
            String big = "-" + (128 << 20);
            boolean started = false;
            while (!started) {
                WatchKey key = watch.poll(5, TimeUnit.MINUTES);
                assertTrue(key != null, "the large upload started");
                for (WatchEvent<?> e : key.pollEvents()) started |= e.context().toString().endsWith(big);
                key.reset();
            }
            server.destroyForcibly().waitFor();
            build.join();
        }
        assertNotEquals(0, interrupted[0].exitCode(), "the build lost its server:\n" + interrupted[0].output());
        Path partial;
        try (Stream<Path> s = Files.list(uploads)) {
            partial = s.filter(p -> p.getFileName().toString().endsWith("-" + (128 << 20))).findFirst().orElseThrow();
        }
        assertTrue(Files.size(partial) < 128 << 20, "the large upload was cut short: " + Files.size(partial) + " bytes");

        int again = startServer(cache);
        StoreCheck.assertConsistent(cache);
        Bazel rebuilt = bazel("build", "--remote_executor=grpc://127.0.0.1:" + again, "//big:count");
        assertEquals(0, rebuilt.exitCode(), rebuilt.output());
        assertEquals(Integer.toString(128 << 20), Files.readString(workspace.resolve("bazel-bin/big/count.txt")).strip());
        StoreCheck.assertConsistent(cache);
    }

    private int startServer(Path cache) throws IOException, InterruptedException {
        servers.add(ServeProcess.start(List.of(), cache, "--workers", "2"));
        return servers.getLast().port;
    }

    record Bazel(int exitCode, String output) {}

    /** Bazel in batch mode (no server left behind), its state under the test's directory. */
    private Bazel bazel(String... args) throws IOException, InterruptedException {
        List<String> command = BazelWorkspace.command(bazelRoot, true);
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(workspace.toFile()).redirectErrorStream(true);
        pb.environment().put("HOME", dir.toString()); // Bazel wants a home; uid 65534 has none
        Process p = pb.start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Bazel(p.waitFor(), output);
    }

    private List<String> outputDigests() throws Exception {
        List<String> out = new ArrayList<>();
        for (String o : OUTPUTS) out.add(o + " " + StoreCheck.sha256(workspace.resolve("bazel-bin").resolve(o)));
        return out;
    }

    private static String run(Path program) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(program.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor());
        return out;
    }


    private static void writeRandom(Path file, int size) throws IOException {
        Random random = new Random(7);
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int written = 0; written < size; written += chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, Math.min(chunk.length, size - written));
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }
}
