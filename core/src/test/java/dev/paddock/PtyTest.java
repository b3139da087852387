package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Actions under a pseudo-terminal, contained and sandboxed. Tests wait for
 * what the action prints, never for time to pass.
 */
class PtyTest extends SandboxedTest {
    private static Action.Builder action(boolean sandboxed, String... command) {
        // The timeout bounds a test that waits for output that never comes: the tree is killed,
        // the terminal closes, and the wait ends in an assertion that shows what was seen.
        Action.Builder b = Action.newBuilder(command).env("TERM", "xterm").pty(new PtySize(80, 24))
                .timeout(Duration.ofSeconds(60));
        return sandboxed ? b.sandbox(Sandbox.hostReadOnly()) : b;
    }

    /** Reads a pty's output on the caller's request: up to a marker, or to the end. */
    private static final class Screen {
        private final InputStream in;
        private final ByteArrayOutputStream seen = new ByteArrayOutputStream();

        Screen(Pty pty) {
            this.in = pty.output();
        }

        String until(String marker) throws IOException {
            byte[] buf = new byte[4096];
            while (!text().contains(marker)) {
                int n = in.read(buf);
                if (n < 0) throw new AssertionError("output ended before '" + marker + "': " + text());
                seen.write(buf, 0, n);
            }
            return text();
        }

        String toEnd() throws IOException {
            seen.write(in.readAllBytes());
            return text();
        }

        String text() {
            return seen.toString(StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest(name = "sandboxed={0}")
    @ValueSource(booleans = {false, true})
    void isATerminalOnEveryStandardStream(boolean sandboxed) throws Exception {
        Execution e = paddock.start(action(sandboxed, "sh", "-c",
                "tty && test -t 0 -a -t 1 -a -t 2 && echo TTY-OK; ps -o tpgid= -p $$; echo $$").build());
        String out = new Screen(e.pty()).toEnd();
        assertEquals(0, e.await().exitCode(), out);
        List<String> lines = out.lines().map(String::trim).toList();
        assertTrue(lines.get(0).matches("/dev/pts/[0-9]+"), out);
        assertEquals("TTY-OK", lines.get(1), out);
        assertEquals(lines.get(3), lines.get(2), "the action is the terminal's foreground job: " + out);
    }

    @ParameterizedTest(name = "sandboxed={0}")
    @ValueSource(booleans = {false, true})
    void sizeIsSetAndFollowsAResize(boolean sandboxed) throws Exception {
        Execution e = paddock.start(action(sandboxed, "sh", "-c",
                "trap 'echo WINCH' WINCH; stty size; echo READY; read line; stty size").build());
        Screen screen = new Screen(e.pty());
        assertTrue(screen.until("READY").contains("24 80"), screen.text());
        e.pty().resize(new PtySize(120, 40));
        assertEquals(new PtySize(120, 40), e.pty().size());
        e.pty().input().write("go\n".getBytes(StandardCharsets.US_ASCII));
        String out = screen.toEnd();
        assertEquals(0, e.await().exitCode(), out);
        assertTrue(out.contains("40 120"), out);
    }

    @ParameterizedTest(name = "sandboxed={0}")
    @ValueSource(booleans = {false, true})
    void interruptEndsTheForegroundJob(boolean sandboxed) throws Exception {
        Execution e = paddock.start(action(sandboxed, "sh", "-c", "echo READY; exec sleep 100").build());
        Screen screen = new Screen(e.pty());
        screen.until("READY");
        e.pty().interrupt();
        screen.toEnd();
        Outcome o = e.await();
        assertEquals(130, o.exitCode(), o.toString());
        assertEquals("SIGINT", o.signal().orElseThrow());
    }

    @ParameterizedTest(name = "sandboxed={0}")
    @ValueSource(booleans = {false, true})
    void endOfFileEndsCat(boolean sandboxed) throws Exception {
        // Repeated: the end of output must come only after cat has exited, never before (which
        // would hang cat up, SIGHUP), however the launcher's processes are scheduled.
        for (int i = 0; i < 20; i++) {
            Execution e = paddock.start(action(sandboxed, "cat").build());
            e.pty().input().write("typed\n".getBytes(StandardCharsets.US_ASCII));
            Screen screen = new Screen(e.pty());
            screen.until("typed\r\ntyped\r\n"); // the terminal's echo, then cat's copy
            e.pty().sendEof();
            screen.toEnd();
            Outcome o = e.await();
            assertEquals(0, o.exitCode(), o.toString());
        }
    }

    @ParameterizedTest(name = "sandboxed={0}")
    @ValueSource(booleans = {false, true})
    void interactiveBashHasJobControl(boolean sandboxed) throws Exception {
        Execution e = paddock.start(action(sandboxed, "bash", "--norc", "--noprofile", "-i")
                .env("PS1", "PROMPT$ ").build());
        Screen screen = new Screen(e.pty());
        var keys = e.pty().input();
        screen.until("PROMPT$ ");
        keys.write("sleep 100 &\n".getBytes(StandardCharsets.US_ASCII));
        screen.until("[1] ");
        keys.write("kill %1; wait %1; echo JOB-$?-DONE\n".getBytes(StandardCharsets.US_ASCII));
        screen.until("JOB-143-DONE");
        keys.write("exit 0\n".getBytes(StandardCharsets.US_ASCII));
        String out = screen.toEnd();
        assertEquals(0, e.await().exitCode(), out);
        assertFalse(out.contains("no job control"), out);
    }

    @ParameterizedTest(name = "sandboxed={0}")
    @ValueSource(booleans = {false, true})
    void eightConcurrentSessionsTwoHundredTimesEach(boolean sandboxed) throws Exception {
        AtomicInteger failures = new AtomicInteger();
        List<String> examples = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService threads = Executors.newFixedThreadPool(8)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                done.add(threads.submit(() -> {
                    for (int i = 0; i < 200; i++) {
                        String token = "tok-" + thread + "-" + i;
                        try {
                            if (!spawnEcho(sandboxed, token)) failures.incrementAndGet();
                        } catch (Exception ex) {
                            failures.incrementAndGet();
                            examples.add(ex.toString());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        }
        assertEquals(0, failures.get(), "failures, e.g. " + examples.stream().limit(3).toList());
    }

    @ParameterizedTest(name = "sandboxed={0}")
    @ValueSource(booleans = {false, true})
    void tenThousandSequentialSpawns(boolean sandboxed) throws Exception {
        int failures = 0;
        for (int i = 0; i < 10_000; i++)
            if (!spawnEcho(sandboxed, "seq-" + i)) failures++;
        assertEquals(0, failures);
    }

    /** One spawn under a fresh pty: the token must arrive whole and the action exit 0. */
    private static boolean spawnEcho(boolean sandboxed, String token) throws Exception {
        Execution e = paddock.start(action(sandboxed, "echo", token).build());
        String out;
        try (Pty pty = e.pty()) {
            out = new String(pty.output().readAllBytes(), StandardCharsets.UTF_8);
        }
        return e.await().exitCode() == 0 && out.equals(token + "\r\n");
    }
}
