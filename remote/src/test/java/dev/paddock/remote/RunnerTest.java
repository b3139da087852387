package dev.paddock.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import buildbarn.resourceusage.POSIXResourceUsage;
import buildbarn.runner.CheckReadinessRequest;
import buildbarn.runner.RunRequest;
import buildbarn.runner.RunResponse;
import buildbarn.runner.RunnerGrpc;
import dev.paddock.testing.HostTools;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code paddock runner} as bb_worker uses it: a client of Buildbarn's runner protocol over a
 * unix socket, with input roots laid out in the build directory the way bb_worker lays them out
 * (ACTION/root, ACTION/tmp, ACTION/stdout, ACTION/stderr).
 */
@Timeout(300)
class RunnerTest {
    private static final String PATH = "/usr/local/bin:/usr/bin:/bin";
    private static Path dir;
    private static Path build;
    private static RunnerServer runner;
    private static EventLoopGroup loops;
    private static ManagedChannel channel;
    private static RunnerGrpc.RunnerBlockingStub stub;

    @BeforeAll
    static void startRunner() throws Exception {
        String max = Files.readString(Path.of("/proc/sys/user/max_user_namespaces")).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        dir = Files.createTempDirectory("paddock-runner-test");
        build = Files.createDirectories(dir.resolve("build"));
        Path socket = dir.resolve("runner.sock");
        runner = RunnerServer.newBuilder().unixSocket(socket).buildDirectory(build).concurrency(8).build();
        runner.start();
        loops = new EpollEventLoopGroup(2);
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loops).usePlaintext().build();
        stub = RunnerGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stopRunner() throws Exception {
        if (channel != null) channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        if (loops != null) loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        if (runner != null) runner.close();
        if (dir != null) {
            try (var s = Files.walk(dir)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    /** One action's directory in the build directory, as bb_worker lays it out. */
    private record Layout(String name, Path root) {
        RunRequest.Builder request(String... arguments) {
            return RunRequest.newBuilder().addAllArguments(List.of(arguments))
                    .putEnvironmentVariables("PATH", PATH)
                    .setInputRootDirectory(name + "/root").setTemporaryDirectory(name + "/tmp")
                    .setStdoutPath(name + "/stdout").setStderrPath(name + "/stderr")
                    .setServerLogsDirectory(name + "/server_logs");
        }

        String stdout() throws IOException {
            return Files.readString(build.resolve(name).resolve("stdout"));
        }

        String stderr() throws IOException {
            return Files.readString(build.resolve(name).resolve("stderr"));
        }
    }

    private static Layout layout(Map<String, String> files) throws IOException {
        String name = UUID.randomUUID().toString();
        Path action = Files.createDirectories(build.resolve(name));
        Path root = Files.createDirectories(action.resolve("root"));
        Files.createDirectories(action.resolve("tmp"));
        Files.createDirectories(action.resolve("server_logs"));
        for (var f : files.entrySet()) {
            Path p = root.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, f.getValue());
            if (f.getKey().endsWith(".sh")) Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return new Layout(name, root);
    }

    private static RunResponse run(RunRequest.Builder request) {
        return stub.withDeadlineAfter(120, TimeUnit.SECONDS).run(request.build());
    }

    /** Runs a shell script as the action and returns its stdout, asserting exit 0. */
    private static String shell(String script, Map<String, String> files) throws IOException {
        Layout a = layout(files);
        RunResponse r = run(a.request("/bin/sh", "-euc", script));
        assertEquals(0, r.getExitCode(), "stdout: " + a.stdout() + " stderr: " + a.stderr());
        return a.stdout();
    }

    @Test
    void exitCodesSignalsAndOutputFiles() throws Exception {
        Layout a = layout(Map.of());
        RunResponse r = run(a.request("/bin/sh", "-c", "echo out; echo err >&2; exit 3"));
        assertEquals(3, r.getExitCode());
        assertEquals("out\n", a.stdout());
        assertEquals("err\n", a.stderr());
        POSIXResourceUsage usage = r.getResourceUsage(0).unpack(POSIXResourceUsage.class);
        assertEquals("", usage.getTerminationSignal());
        assertTrue(usage.getMaximumResidentSetSize() > 0, "rusage: " + usage);

        Layout b = layout(Map.of());
        RunResponse killed = run(b.request("/bin/sh", "-c", "kill -KILL $$"));
        assertEquals(-1, killed.getExitCode());
        assertEquals("KILL", killed.getResourceUsage(0).unpack(POSIXResourceUsage.class).getTerminationSignal());
    }

    @Test
    void theEnvironmentIsExactlyTheRequests() throws Exception {
        Layout a = layout(Map.of());
        run(a.request("/usr/bin/env").clearEnvironmentVariables().putEnvironmentVariables("ONLY", "this"));
        assertEquals("ONLY=this\n", a.stdout());
    }

    @Test
    void theInputRootIsRootWithProcDevAndTmp() throws Exception {
        String out = shell("cd /src && cat input.txt; readlink /proc/self/exe; ls /dev/null /dev/urandom /dev/pts >/dev/null;"
                + " echo made > /tmp/scratch; echo output > /src/out.txt; pwd; id -u; ls /proc | grep -c '^[0-9]'",
                Map.of("src/input.txt", "the input\n"));
        List<String> lines = out.lines().toList();
        assertEquals("the input", lines.get(0));
        assertEquals("/usr/bin/readlink", lines.get(1));
        assertEquals("/src", lines.get(2));
        assertTrue(Integer.parseInt(lines.get(4)) <= 5, "the action sees only its own processes: " + out);
    }

    @Test
    void outputsLandInTheInputRootAndMountPointsAreRemoved() throws Exception {
        Layout a = layout(Map.of("src/input.txt", "in\n"));
        RunResponse r = run(a.request("/bin/sh", "-c", "echo output > /src/out.txt; echo top > /top.txt;"
                + " echo scratch > /tmp/scratch; mkdir /empty-output; ln -s src /link-output").setWorkingDirectory("src"));
        assertEquals(0, r.getExitCode(), a.stderr());
        assertEquals("output\n", Files.readString(a.root().resolve("src/out.txt")));
        assertEquals("top\n", Files.readString(a.root().resolve("top.txt")));
        assertEquals("scratch\n", Files.readString(build.resolve(a.name()).resolve("tmp/scratch")));
        try (var s = Files.list(a.root())) {
            assertEquals(List.of("empty-output", "link-output", "src", "top.txt"),
                    s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "the action's own files, empty directories and links are left in the input root, and only they");
        }
        runner.awaitTrashDeleted();
        try (var s = Files.list(build)) {
            for (Path trash : s.filter(p -> p.getFileName().toString().startsWith(".paddock-trash-")).toList()) {
                try (var t = Files.list(trash)) {
                    assertEquals(List.of(), t.toList(), "the removed mount points are deleted after the answer");
                }
            }
        }
    }

    @Test
    void theActionCannotWriteOutsideItsInputRootAndTemporaryDirectory() throws Exception {
        String name = "paddock-runner-" + UUID.randomUUID();
        String out = shell("for p in /usr/x /etc/x /bin/x /proc/x; do (echo > $p) 2>/dev/null && echo WROTE $p;"
                + " done; echo > /dev/" + name + "; echo done", Map.of());
        assertEquals("done\n", out);
        assertFalse(Files.exists(Path.of("/dev", name)), "/dev inside is the sandbox's own tmpfs, not the host's");
    }

    @Test
    void theActionCannotSeeOrSignalTheWorkersProcesses() throws Exception {
        long self = ProcessHandle.current().pid();
        String out = shell("test -e /proc/" + self + "/cmdline && grep -l java /proc/[0-9]*/cmdline 2>/dev/null"
                + " | head -1; kill -0 " + self + " 2>/dev/null && echo SIGNALLED; echo done", Map.of());
        assertEquals("done\n", out, "the runner's JVM (pid " + self + ") was visible or signallable");
    }

    @Test
    void theActionCannotReachTheHostsLoopback() throws Exception {
        HostTools.require("python3", "python3");
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String out = shell("python3 -c \"import socket\ntry:\n    socket.create_connection(('127.0.0.1', "
                    + listener.getLocalPort() + "), timeout=5); print('reached')\nexcept OSError as e:\n"
                    + "    print('refused', e.errno)\"", Map.of());
            assertTrue(out.startsWith("refused"), out);
        }
    }

    @Test
    void aCancelledRunLeavesNoProcess() throws Exception {
        String marker = "paddock-runner-cancel-" + UUID.randomUUID();
        // Two shells named marker (their $0): one in the action's group, one escaped with setsid.
        Layout a = layout(Map.of("run.sh", "#!/bin/sh\n(setsid sh -c 'sleep 1000; true' " + marker + " &)\n"
                + "sh -c 'sleep 1000; true' " + marker + " &\necho started\nwait\n"));
        RunnerGrpc.RunnerStub async = RunnerGrpc.newStub(channel);
        Context.CancellableContext call = Context.current().withCancellation();
        var done = new java.util.concurrent.CompletableFuture<Throwable>();
        call.run(() -> async.run(a.request("/run.sh").build(), new io.grpc.stub.StreamObserver<>() {
            public void onNext(RunResponse value) {}

            public void onError(Throwable t) {
                done.complete(t);
            }

            public void onCompleted() {
                done.complete(null);
            }
        }));
        Path stdout = build.resolve(a.name()).resolve("stdout");
        for (int i = 0; i < 6000 && !(Files.exists(stdout) && Files.readString(stdout).contains("started")); i++) {
            Thread.sleep(10); // polls the file the action writes: the event to wait for
        }
        assertTrue(Files.readString(stdout).contains("started"), "the action did not start");
        // The sleeps were forked before "started"; their exec may still be under way, and setsid(1)
        // carries the marker too until it has forked the shell and exited: wait for exactly two.
        for (int i = 0; i < 3000 && marked(marker) != 2; i++) Thread.sleep(10);
        assertEquals(2, marked(marker), "both sleeps run");
        call.cancel(null);
        assertEquals(Status.Code.CANCELLED, Status.fromThrowable(done.get(60, TimeUnit.SECONDS)).getCode());
        for (int i = 0; i < 3000 && marked(marker) > 0; i++) Thread.sleep(10);
        assertEquals(0, marked(marker), "processes of a cancelled Run are left");
    }

    /** Host processes whose command line holds marker. */
    private static long marked(String marker) throws IOException {
        long n = 0;
        try (var procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                try {
                    if (new String(Files.readAllBytes(p.resolve("cmdline"))).contains(marker)) n++;
                } catch (IOException gone) {
                    // the process ended while we looked
                }
            }
        }
        return n;
    }

    @Test
    void twoHundredRunsAtConcurrencyEight() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        AtomicInteger failures = new AtomicInteger();
        List<Future<?>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            int n = i;
            all.add(pool.submit(() -> {
                Layout a = layout(Map.of("n.txt", Integer.toString(n)));
                RunResponse r = run(a.request("/bin/sh", "-c", "cat /n.txt; echo $((n = $(cat /n.txt) * 2))"));
                if (r.getExitCode() != 0 || !a.stdout().equals(n + "" + (n * 2) + "\n")) {
                    failures.incrementAndGet();
                    System.err.println("run " + n + ": exit " + r.getExitCode() + " stdout " + a.stdout()
                            + " stderr " + a.stderr());
                }
                return null;
            }));
        }
        for (Future<?> f : all) f.get(240, TimeUnit.SECONDS);
        pool.shutdown();
        assertEquals(0, failures.get());
    }

    @Test
    void checkReadinessLooksForThePath() throws Exception {
        Layout a = layout(Map.of());
        stub.checkReadiness(CheckReadinessRequest.newBuilder().setPath(a.name()).build());
        stub.checkReadiness(CheckReadinessRequest.getDefaultInstance());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.checkReadiness(CheckReadinessRequest.newBuilder().setPath("no-such-path").build()));
        assertEquals(Status.Code.INTERNAL, e.getStatus().getCode());
    }

    @Test
    void badRequestsAreRefusedWithTheReason() throws Exception {
        Layout a = layout(Map.of());
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
                () -> run(a.request().clearArguments()));
        assertEquals(Status.Code.INVALID_ARGUMENT, none.getStatus().getCode());
        StatusRuntimeException escape = assertThrows(StatusRuntimeException.class,
                () -> run(layout(Map.of()).request("true").setStdoutPath("../outside")));
        assertEquals(Status.Code.INVALID_ARGUMENT, escape.getStatus().getCode());
        assertTrue(escape.getStatus().getDescription().contains("leads out of"), escape.getStatus().toString());
        StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
                () -> run(layout(Map.of()).request("paddock-no-such-command")));
        assertEquals(Status.Code.INVALID_ARGUMENT, missing.getStatus().getCode());
        assertTrue(missing.getStatus().getDescription().contains("paddock-no-such-command"),
                missing.getStatus().toString());
        assertFalse(Files.exists(dir.resolve("outside")));
    }

    private static void assertToolchainPrints(String token, String script, Map<String, String> files)
            throws IOException {
        String out = shell("cd /src && " + script, files);
        assertTrue(out.contains(token), "expected " + token + " in: " + out);
    }

    @Test
    void gcc() throws Exception {
        HostTools.require("gcc", "gcc");
        assertToolchainPrints("gcc-ok", "gcc -o hello hello.c && ./hello",
                Map.of("src/hello.c", "#include <stdio.h>\n#include <unistd.h>\nint main(void) { char b[256];"
                        + " ssize_t n = readlink(\"/proc/self/exe\", b, sizeof b - 1); if (n < 0) return 1;"
                        + " b[n] = 0; printf(\"gcc-ok %s\\n\", b); return 0; }\n"));
    }

    @Test
    void python3() throws Exception {
        HostTools.require("python3", "python3");
        assertToolchainPrints("python-ok", "python3 hello.py", Map.of("src/hello.py",
                "import os\nprint('python-ok', os.readlink('/proc/self/exe'))\n"));
    }

    @Test
    void node() throws Exception {
        HostTools.require("nodejs", "node");
        assertToolchainPrints("node-ok", "HOME=/tmp node hello.js", Map.of("src/hello.js",
                "console.log('node-ok', require('fs').readlinkSync('/proc/self/exe'));\n"));
    }

    @Test
    void rustcAndCargo() throws Exception {
        HostTools.require("rustc", "rustc");
        HostTools.require("cargo", "cargo");
        assertToolchainPrints("rust-ok", "rustc -o hello hello.rs && ./hello && CARGO_HOME=/tmp/cargo cargo build"
                        + " --offline --quiet --manifest-path tiny/Cargo.toml && tiny/target/debug/tiny",
                Map.of("src/hello.rs", "fn main() { println!(\"rust-ok {:?}\", std::env::current_exe().unwrap()); }\n",
                        "src/tiny/Cargo.toml", "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2018\"\n",
                        "src/tiny/src/main.rs", "fn main() { println!(\"cargo-ok\"); }\n"));
    }

    @Test
    void go() throws Exception {
        HostTools.require("golang-go", "go");
        assertToolchainPrints("go-ok true", "HOME=/tmp GOCACHE=/tmp/go-cache GOPATH=/tmp/go GOPROXY=off go build"
                + " -o hello . && ./hello", Map.of("src/go.mod", "module example.com/hello\n\ngo 1.19\n",
                "src/main.go", "package main\n\nimport (\n\t\"fmt\"\n\t\"runtime\"\n)\n\n"
                        + "func main() { fmt.Println(\"go-ok\", runtime.GOROOT() != \"\") }\n"));
    }

    @Test
    void javac() throws Exception {
        Path javaHome = Path.of(System.getProperty("java.home"));
        assumeTrue(javaHome.startsWith("/usr"), "this JDK (" + javaHome + ") is outside the system directories the "
                + "runner shows by default");
        assertToolchainPrints("java-ok", "'" + javaHome + "/bin/javac' -d classes Hello.java && '" + javaHome
                + "/bin/java' -cp classes Hello", Map.of("src/Hello.java", "class Hello { public static void"
                + " main(String[] a) throws Exception { System.out.println(\"java-ok \" + java.nio.file.Files"
                + ".readSymbolicLink(java.nio.file.Path.of(\"/proc/self/exe\"))); } }\n"));
    }
}
