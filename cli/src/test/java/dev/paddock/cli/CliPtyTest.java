package dev.paddock.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.paddock.testing.HostTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * paddock run --pty as a person uses it: in a real terminal (a tmux pane),
 * typing, pressing Ctrl-C, and finding the terminal as it was afterwards.
 */
class CliPtyTest {
    @TempDir
    Path dir;

    private String session;

    @BeforeEach
    void startTerminal() throws Exception {
        HostTools.require("tmux", "tmux");
        // A paddock command the pane's shell can run, whatever the user's home and PATH.
        Path cli = dir.resolve("paddock");
        Files.writeString(cli, "#!/bin/sh\nexec '" + ProcessHandle.current().info().command().orElse("java")
                + "' --enable-native-access=ALL-UNNAMED -cp '" + System.getProperty("java.class.path") + "' "
                + Main.class.getName() + " \"$@\"\n");
        Files.setPosixFilePermissions(cli, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(dir.resolve("tmux"));
        session = "paddock-" + ProcessHandle.current().pid();
        tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                "env -i PATH=/usr/bin:/bin HOME=" + dir + " PS1='SHELL$ ' bash --norc --noprofile");
        waitForScreen("SHELL$ ");
    }

    @AfterEach
    void stopTerminal() throws Exception {
        if (session != null) tmux("kill-session", "-t", session);
    }

    @Test
    void typedInputReachesTheActionAndCtrlCInterruptsIt() throws Exception {
        type("stty -g > before; ./paddock run --pty -- sh -c 'echo RE\"\"ADY; read x; echo GOT-$x; "
                + "echo SLEE\"\"PING; exec sleep 100'; echo EXIT-$?; stty -g > after; echo DO\"\"NE", "Enter");
        // Markers are quoted apart ("RE""ADY") so that the typed command line never matches them.
        waitForScreen("READY");
        type("hello", "Enter");
        waitForScreen("GOT-hello");
        waitForScreen("SLEEPING");
        type("C-c");
        waitForScreen("EXIT-130");
        waitForScreen("DONE");
        assertEquals(Files.readString(dir.resolve("before")), Files.readString(dir.resolve("after")),
                "the terminal's settings were not restored after Ctrl-C");
    }

    @Test
    void terminalIsRestoredWhenPaddockIsTerminated() throws Exception {
        type("stty -g > before; ./paddock run --pty -- sh -c 'echo PID-$PPID-RE\"\"ADY; exec sleep 100'; "
                + "echo EXIT-$?; stty -g > after; echo DO\"\"NE", "Enter");
        String screen = waitForScreen("-READY");
        // $PPID of the action is its launcher (a spawn server's keeper); paddock's JVM is above it.
        long launcher = Long.parseLong(screen.replaceAll("(?s).*PID-(\\d+)-READY.*", "$1"));
        ProcessHandle jvmProcess = ProcessHandle.of(launcher).orElseThrow();
        while (!jvmProcess.info().command().orElse("").endsWith("/java"))
            jvmProcess = jvmProcess.parent().orElseThrow(() -> new AssertionError("no JVM above the launcher"));
        long jvm = jvmProcess.pid();
        new ProcessBuilder("kill", "-TERM", Long.toString(jvm)).start().waitFor();
        waitForScreen("EXIT-143");
        waitForScreen("DONE");
        assertEquals(Files.readString(dir.resolve("before")), Files.readString(dir.resolve("after")),
                "the terminal's settings were not restored after SIGTERM");
    }

    @Test
    void windowSizeIsPassedOnAndFollowed() throws Exception {
        type("./paddock run --pty -- sh -c 'echo SIZE-$(stty size)-A; while read x; do echo SIZE-$(stty size)-B; done'",
                "Enter");
        waitForScreen("SIZE-30 100-A");
        tmux("resize-window", "-t", session, "-x", "90", "-y", "20");
        // paddock passes the size on when SIGWINCH reaches it, which may be after a key typed at once:
        // ask again (each Enter prints the size the action sees) until the new size shows.
        for (int asked = 0; asked < 10; asked++) {
            type("Enter");
            String screen = waitForScreen("0-B", asked + 1); // "SIZE-30 100-B" or "SIZE-20 90-B"
            if (screen.contains("SIZE-20 90-B")) return;
        }
        throw new AssertionError("the action never saw the new window size");
    }

    private void type(String... keys) throws Exception {
        List<String> args = new ArrayList<>(List.of("send-keys", "-t", session));
        args.addAll(List.of(keys));
        tmux(args.toArray(String[]::new));
    }

    /** Polls the pane (bounded: 60 s) until text appears on it; returns the screen. */
    private String waitForScreen(String text) throws Exception {
        return waitForScreen(text, 1);
    }

    /** Polls the pane (bounded: 60 s) until text appears on it at least {@code times} times; returns the screen. */
    private String waitForScreen(String text, int times) throws Exception {
        String screen = "";
        for (int i = 0; i < 1200; i++) {
            screen = tmux("capture-pane", "-p", "-J", "-t", session);
            if (screen.split(java.util.regex.Pattern.quote(text), -1).length - 1 >= times) return screen;
            Thread.sleep(50);
        }
        throw new AssertionError("'" + text + "' never appeared " + times + " times; the screen:\n" + screen);
    }

    private String tmux(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("tmux", "-S", dir.resolve("tmux/socket").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        // tmux runs the pane's command with $SHELL, else the user's login shell: nologin for nobody.
        pb.environment().put("SHELL", "/bin/sh");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        assertTrue(rc == 0 || args[0].equals("kill-session"), "tmux " + String.join(" ", args) + ": " + out);
        return out;
    }
}
