package dev.paddock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.paddock.testing.HostTools;
import dev.paddock.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI as users run it: a separate JVM, real exit codes, real stderr. */
class CliTest {
    record Result(int exitCode, String stdout, String stderr) {}

    static Result paddock(Path cwd, String... args) throws IOException, InterruptedException {
        return paddockUnder(List.of(), cwd, args);
    }

    /** The CLI in a new JVM started by the prefix command (which execs the rest of its arguments). */
    static Result paddockUnder(List<String> prefix, Path cwd, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).start();
        p.getOutputStream().close();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        return new Result(p.waitFor(), out, err.join());
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void exitsWithTheActionsStatusAndStreamsOutput(@TempDir Path dir) throws Exception {
        Result r = paddock(dir, "run", "--", "sh", "-c", "echo out; echo err >&2; exit 3");
        assertEquals(3, r.exitCode());
        assertEquals("out\n", r.stdout());
        assertEquals("err\n", r.stderr());
    }

    @Test
    void timeoutExits124AndLeavesNothingBehind(@TempDir Path dir) throws Exception {
        Path pids = dir.resolve("pids");
        Result r = paddock(dir, "run", "--timeout", "1s", "--", "sh", "-c",
                "setsid sleep 600 & echo $! > " + pids + "; sleep 600");
        assertEquals(124, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains("timed out after 1s"), r.stderr());
        long daemon = Long.parseLong(Files.readString(pids).trim());
        assertTrue(ProcessHandle.of(daemon).map(h -> !h.isAlive()).orElse(true), "setsid daemon survived");
    }

    /** The limits of paddock run: each reached by a real process, and their misuse refused. */
    @Test
    void limitsEndTheCommandAndSaySo(@TempDir Path dir) throws Exception {
        Result cpu = paddock(dir, "run", "--cpu-time", "1", "--json", dir.resolve("cpu.json").toString(), "--",
                "sh", "-c", "exec sh -c 'while :; do :; done'");
        assertEquals(128 + 24, cpu.exitCode(), cpu.stderr());
        assertTrue(cpu.stderr().contains("paddock: ended by SIGXCPU: the command reached its --cpu-time limit"),
                cpu.stderr());
        assertTrue(Files.readString(dir.resolve("cpu.json")).contains("\"limit_exceeded\":\"cpu-time\""));
        Result file = paddock(dir, "run", "--sandbox", "--file-size", "64K", "--", "dd", "if=/dev/zero",
                "of=" + dir.resolve("big"), "bs=1K", "count=128");
        assertEquals(128 + 25, file.exitCode(), file.stderr());
        assertTrue(file.stderr().contains("reached its --file-size limit"), file.stderr());
        assertEquals(64 << 10, Files.size(dir.resolve("big")));
        Result bomb = paddock(dir, "run", "--processes", "10", "--", "true");
        assertEquals(125, bomb.exitCode()); // paddock run's usage errors, as GNU timeout's
        assertTrue(bomb.stderr().contains("--processes needs --sandbox"), bomb.stderr());
        Result bad = paddock(dir, "run", "--memory", "lots", "--", "true");
        assertEquals(125, bad.exitCode());
        assertTrue(bad.stderr().contains("--memory 'lots' must be a positive size"), bad.stderr());
    }

    @Test
    void missingCommandNamesThePathSearched(@TempDir Path dir) throws Exception {
        Result r = paddock(dir, "run", "--env", "PATH=/usr/bin:/bin", "--", "paddock-no-such-command");
        assertEquals(127, r.exitCode());
        assertTrue(r.stderr().contains("paddock-no-such-command") && r.stderr().contains("PATH=/usr/bin:/bin"), r.stderr());
    }

    @Test
    void nonExecutableFileSaysSo(@TempDir Path dir) throws Exception {
        Path script = Files.writeString(dir.resolve("build.sh"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        Result r = paddock(dir, "run", "--", script.toString());
        assertEquals(126, r.exitCode());
        assertTrue(r.stderr().contains("cannot execute '" + script + "'") && r.stderr().contains("chmod"), r.stderr());
    }

    @Test
    void badDurationIsAUsageError(@TempDir Path dir) throws Exception {
        Result r = paddock(dir, "run", "--timeout", "soon", "--", "true");
        assertEquals(125, r.exitCode());
        assertTrue(r.stderr().contains("'soon' is not a duration"), r.stderr());
        assertTrue(r.stderr().contains("paddock run --help"), r.stderr());
    }

    @Test
    void missingCommandIsAUsageError(@TempDir Path dir) throws Exception {
        Result r = paddock(dir, "run", "--timeout", "1s");
        assertEquals(125, r.exitCode());
        assertTrue(r.stderr().contains("COMMAND"), r.stderr());
    }

    @Test
    void jsonOutcomeEnvAndCwd(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("outcome.json");
        Path work = Files.createDirectory(dir.resolve("work"));
        Result r = paddock(dir, "run", "--json", json.toString(), "--cwd", "work", "--env", "GREETING=hi there",
                "--", "sh", "-c", "echo \"$GREETING from $(basename \"$PWD\")\"; exit 4");
        assertEquals(4, r.exitCode(), r.stderr());
        assertEquals("hi there from work\n", r.stdout());
        Map<String, Object> outcome = Json.parseObject(Files.readString(json));
        assertEquals(4L, outcome.get("exit_code"));
        assertEquals(4L, outcome.get("status"));
        assertEquals(false, outcome.get("timed_out"));
        assertTrue(outcome.get("rusage") instanceof Map<?, ?>);
        assertTrue(Files.isDirectory(work));
    }

    @Test
    void sandboxIsReadOnlyWithPrivateTmpAndReportsItself(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("outcome.json");
        Result r = paddock(dir, "run", "--sandbox", "--hostname", "box", "--json", json.toString(), "--",
                "sh", "-c", "readlink /proc/self/exe && touch /tmp/x && ! touch /usr/x 2>/dev/null && hostname");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().endsWith("box\n"), r.stdout());
        assertTrue(String.valueOf(Json.parseObject(Files.readString(json)).get("sandbox")).startsWith("host-readonly"));
    }

    @Test
    void sandboxOptionsNeedSandbox(@TempDir Path dir) throws Exception {
        Result r = paddock(dir, "run", "--ro", "/usr", "--", "true");
        assertEquals(125, r.exitCode());
        assertTrue(r.stderr().contains("need --sandbox"), r.stderr());
    }

    @Test
    void helpTeaches(@TempDir Path dir) throws Exception {
        Result r = paddock(dir, "run", "--help");
        assertEquals(0, r.exitCode());
        for (String word : List.of("--timeout", "--kill-grace", "--cwd", "--env", "--json", "124", "127", "Examples"))
            assertTrue(r.stdout().contains(word), "help lacks " + word + ":\n" + r.stdout());
    }

    @Test
    void everyCommandsHelpPrintsCleanly(@TempDir Path dir) throws Exception {
        // picocli reads descriptions as format strings: a lone % garbles the text and warns on stderr.
        for (List<String> command : List.of(List.<String>of(), List.of("run"), List.of("serve"), List.of("runner"),
                List.of("doctor"), List.of("bench"), List.of("bench", "spawn"), List.of("bench", "pty"),
                List.of("bench", "remote"), List.of("bench", "runner"))) {
            List<String> args = new ArrayList<>(command);
            args.add("--help");
            Result r = paddock(dir, args.toArray(String[]::new));
            assertEquals(0, r.exitCode(), args + ": " + r.stderr());
            assertTrue(r.stdout().startsWith("Usage: paddock"), args + ":\n" + r.stdout());
            assertEquals("", r.stderr(), args + " wrote to stderr");
        }
    }

    @Test
    void runnerRefusesBadOptionsSayingWhatIsExpected(@TempDir Path dir) throws Exception {
        Result noPath = paddock(dir, "runner", "--listen", "unix:");
        assertEquals(2, noPath.exitCode(), noPath.stderr());
        assertTrue(noPath.stderr().contains("--listen unix: needs a socket path"), noPath.stderr());
        Result mode = paddock(dir, "runner", "--listen", "unix:" + dir.resolve("s"), "--socket-mode", "999");
        assertEquals(2, mode.exitCode(), mode.stderr());
        assertTrue(mode.stderr().contains("must be octal permissions"), mode.stderr());
        Result build = paddock(dir, "runner", "--listen", "unix:" + dir.resolve("s"), "--build-directory",
                dir.resolve("missing").toString());
        assertTrue(build.exitCode() != 0 && build.stderr().contains("is not a directory"), build.stderr());
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> benchSubjects(Path json) throws IOException {
        return (List<Map<String, Object>>) Json.parseObject(Files.readString(json)).get("subjects");
    }

    @Test
    void benchSpawnWritesFiguresForEverySubject(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");
        Result r = paddock(dir, "bench", "spawn", "-n", "50", "-c", "2", "--warmup", "0.5", "--json", json.toString());
        assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
        List<Map<String, Object>> subjects = benchSubjects(json);
        assertEquals(List.of("paddock", "processbuilder", "c-posix-spawn"), subjects.stream().map(s -> s.get("name")).toList());
        for (Map<String, Object> s : subjects) {
            assertEquals(0L, s.get("failures"), s.toString());
            for (String key : List.of("median_us", "p90_us", "p99_us", "per_second"))
                assertTrue(((Number) s.get(key)).doubleValue() > 0, key + " in " + s);
        }
        assertTrue(r.stdout().contains("median ratio paddock/processbuilder"), r.stdout());
        assertTrue(r.stdout().contains("throughput ratio paddock/c-posix-spawn"), r.stdout());
        // 50 spawns make the fewest rounds, 5 of 10 spawns each; every round has paddock's ratio to each subject.
        Map<String, Object> root = Json.parseObject(Files.readString(json));
        assertEquals(5L, root.get("rounds"), root.toString());
        for (String figure : List.of("round_median_ratios", "round_throughput_ratios")) {
            @SuppressWarnings("unchecked")
            Map<String, List<Number>> perRound = (Map<String, List<Number>>) root.get(figure);
            assertEquals(List.of("paddock/processbuilder", "paddock/c-posix-spawn"), List.copyOf(perRound.keySet()), figure);
            for (List<Number> ratios : perRound.values()) {
                assertEquals(5, ratios.size(), figure + ": " + ratios);
                for (Number ratio : ratios) assertTrue(ratio.doubleValue() > 0, figure + ": " + ratios);
            }
        }
    }

    @Test
    void benchRefusesAWarmupOutOfRange(@TempDir Path dir) throws Exception {
        Result r = paddock(dir, "bench", "spawn", "--warmup", "-1");
        assertEquals(2, r.exitCode(), r.stdout() + r.stderr()); // a usage error
        assertTrue(r.stderr().contains("--warmup takes 0 to 3600 seconds"), r.stderr());
    }

    @Test
    void benchSpawnSandboxComparesWithBwrap(@TempDir Path dir) throws Exception {
        HostTools.require("bubblewrap", "bwrap");
        Path json = dir.resolve("bench.json");
        Result r = paddock(dir, "bench", "spawn", "--sandbox", "-n", "20", "--warmup", "0", "--json", json.toString());
        assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
        List<Map<String, Object>> subjects = benchSubjects(json);
        assertEquals(List.of("paddock", "bwrap", "c-clone-sandbox"), subjects.stream().map(s -> s.get("name")).toList());
        for (Map<String, Object> s : subjects) assertEquals(0L, s.get("failures"), s.toString());
        assertTrue(r.stdout().contains("median ratio paddock/bwrap") && r.stdout().contains("median ratio paddock/c-clone-sandbox"),
                r.stdout());
    }

    @Test
    void benchRunnerComparesARunCallWithTheLauncherAndBwrap(@TempDir Path dir) throws Exception {
        HostTools.require("bubblewrap", "bwrap");
        Path json = dir.resolve("bench.json");
        Result r = paddock(dir, "bench", "runner", "-n", "20", "--warmup", "0", "--json", json.toString());
        assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
        List<Map<String, Object>> subjects = benchSubjects(json);
        assertEquals(List.of("paddock-runner", "paddock-launch", "bwrap"), subjects.stream().map(s -> s.get("name")).toList());
        for (Map<String, Object> s : subjects) assertEquals(0L, s.get("failures"), s.toString());
        assertTrue(r.stdout().contains("median ratio paddock-runner/bwrap"), r.stdout());
    }

    @Test
    void benchPtyChecksEverySpawnsOutput(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");
        Result r = paddock(dir, "bench", "pty", "-n", "40", "-c", "2", "--warmup", "0", "--json", json.toString());
        assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
        List<Map<String, Object>> subjects = benchSubjects(json);
        assertEquals(List.of("paddock", "pty4j", "c-pty"), subjects.stream().map(s -> s.get("name")).toList());
        assertEquals(0L, subjects.get(0).get("failures"), subjects.get(0).toString());
        assertEquals(0L, subjects.get(2).get("failures"), subjects.get(2).toString());
        assertTrue(r.stdout().contains("median ratio paddock/pty4j") && r.stdout().contains("median ratio paddock/c-pty"),
                r.stdout());
    }

    @Test
    void doctorReportsEveryProbeAsJson(@TempDir Path dir) throws Exception {
        Result r = paddock(dir, "doctor", "--json");
        Map<String, Object> root = Json.parseObject(r.stdout().trim());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> probes = (List<Map<String, Object>>) root.get("probes");
        assertEquals(List.of("user-namespaces", "id-maps", "procfs", "tmpfs", "pid-net-namespaces", "seccomp-filter",
                "overlay-kernel", "overlay-fuse", "process-limit", "cgroups", "landlock", "seccomp", "devpts-pty"),
                probes.stream().map(p -> p.get("name")).toList());
        for (Map<String, Object> p : probes) {
            assertTrue(List.of("ok", "degraded", "unavailable").contains(p.get("status")), p.toString());
            for (String key : List.of("cause", "evidence", "remedy"))
                assertTrue(p.get(key) instanceof String, key + " in " + p);
            if (!"ok".equals(p.get("status")))
                assertTrue(!((String) p.get("cause")).isEmpty() && !((String) p.get("remedy")).isEmpty(), p.toString());
            assertTrue(p.get("features") instanceof List<?> l && !l.isEmpty(), p.toString());
        }
        // The sandbox's own tests run on this host, so what it needs must work here.
        assertEquals(true, root.get("healthy"), r.stdout());
        assertEquals(0, r.exitCode(), r.stderr());
        for (Map<String, Object> p : probes.subList(0, 5)) assertTrue(!"unavailable".equals(p.get("status")), p.toString());
    }

    /**
     * With user namespaces switched off by the sysctl, the doctor says so, names the sysctl and
     * exits 1. The limit is per user namespace, so the doctor runs in one of its own (as its
     * root) where user.max_user_namespaces is 0: no host setting changes, and the test runs the
     * same as root and as an unprivileged user.
     */
    @Test
    void doctorNamesTheSysctlWhenUserNamespacesAreOff(@TempDir Path dir) throws Exception {
        Result r = paddockUnder(List.of("unshare", "--map-root-user", "sh", "-c",
                "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"", "sh"), dir, "doctor", "--json");
        assertEquals(1, r.exitCode(), r.stdout() + r.stderr());
        @SuppressWarnings("unchecked")
        Map<String, Object> userns = ((List<Map<String, Object>>) Json.parseObject(r.stdout().trim())
                .get("probes")).get(0);
        assertEquals("unavailable", userns.get("status"), userns.toString());
        assertTrue(((String) userns.get("cause")).contains("user.max_user_namespaces"), userns.toString());
        assertTrue(((String) userns.get("remedy")).contains("sysctl"), userns.toString());
        assertTrue(((String) userns.get("evidence")).contains("ENOSPC"), userns.toString());
    }
}
