package dev.paddock.cli;

import com.pty4j.PtyProcess;
import com.pty4j.PtyProcessBuilder;
import dev.paddock.Action;
import dev.paddock.Execution;
import dev.paddock.Paddock;
import dev.paddock.Pty;
import dev.paddock.PtySize;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(
        name = "pty",
        mixinStandardHelpOptions = true,
        description = {
            "Spawn a command under a fresh pseudo-terminal N times through paddock,",
            "pty4j and a C baseline (posix_spawn in a new session with the pty slave as",
            "fds 0-2), in rounds that alternate between them (at most 500 spawns per",
            "subject each, every other round in reverse order). Each spawn reads the",
            "terminal's output to the end and reaps the command; output without the",
            "command's token counts as a failure. Reports median/p90/p99 latency,",
            "spawns per second, failures, and ratios.",
        },
        footer = {"", "Example:", "  paddock bench pty -n 2000 -c 8 --json pty.json"})
final class PtyBenchmark implements Callable<Integer> {
    static final String PTY4J = "pty4j";
    static final String C_PTY = "c-pty";
    private static final String TOKEN = "paddock-pty-token-7f3c";
    private static final String ECHO = "/bin/echo";

    @CommandLine.Mixin
    BenchOptions options;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, String> env = Map.of("PATH", "/usr/bin:/bin", "TERM", "xterm");
        try (Paddock paddock = Paddock.create()) {
            BenchHarness harness = options.harness(spec.commandLine(), paddock);
            Action action = Action.newBuilder(ECHO, TOKEN).environment(env).pty(PtySize.DEFAULT).build();
            Map<String, BenchHarness.Subject> subjects = new LinkedHashMap<>();
            subjects.put(BenchHarness.PADDOCK, n -> harness.measure(n, () -> paddock(paddock, action)));
            subjects.put(PTY4J, n -> harness.measure(n, () -> pty4j(env)));
            subjects.put(C_PTY, n -> harness.measureC(C_PTY, n, List.of(TOKEN, ECHO, TOKEN)));
            out.printf(Locale.ROOT, "spawning %s under a fresh pty %d times per subject at concurrency %d, "
                    + "in %d alternating rounds after at least %s s of warm-up each%n", ECHO, options.spawns, options.concurrency,
                    harness.rounds(), options.warmupSeconds);
            out.flush();
            BenchHarness.Figures figures = harness.run(subjects);
            BenchHarness.report(out, figures);
            options.writeJson("pty", Map.of("command", ECHO + " " + TOKEN), figures);
            // pty4j's losses are what the figures are for; paddock's own failures fail the run.
            return figures.paddock().failures() > 0 ? 1 : 0;
        }
    }

    private static boolean paddock(Paddock paddock, Action action) throws Exception {
        Execution e = paddock.start(action);
        String output;
        try (Pty pty = e.pty()) {
            output = new String(pty.output().readAllBytes(), StandardCharsets.UTF_8);
        }
        return e.await().exitCode() == 0 && output.contains(TOKEN);
    }

    private static boolean pty4j(Map<String, String> env) throws Exception {
        PtyProcess p = new PtyProcessBuilder(new String[] {ECHO, TOKEN}).setEnvironment(env)
                .setInitialColumns(PtySize.DEFAULT.columns()).setInitialRows(PtySize.DEFAULT.rows()).start();
        try (InputStream in = p.getInputStream()) {
            String output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor() == 0 && output.contains(TOKEN);
        } finally {
            p.destroy();
        }
    }
}
