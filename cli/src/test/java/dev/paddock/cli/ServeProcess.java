package dev.paddock.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code paddock serve} in a JVM of its own, as an operator starts it; its output is kept line by line. */
final class ServeProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (?:127\\.0\\.0\\.1:(\\d+)|unix:)");
    private static final String END = "<end of output>";

    final Process process;
    /** The TCP port, or -1 for a unix socket. */
    final int port;
    private final Queue<String> output = new ConcurrentLinkedQueue<>();

    private ServeProcess(Process process) throws InterruptedException {
        this.process = process;
        BlockingQueue<String> unread = new LinkedBlockingQueue<>(); // for finding the port; output keeps everything
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.add(line);
                    unread.add(line);
                }
            } catch (IOException e) {
                // the server is gone; the test sees it in its own checks
            } finally {
                unread.add(END);
            }
        });
        while (true) {
            String line = unread.poll(2, TimeUnit.MINUTES);
            if (line == null || line.equals(END))
                throw new AssertionError("paddock serve did not start:\n" + String.join("\n", output));
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                port = m.group(1) == null ? -1 : Integer.parseInt(m.group(1));
                return;
            }
        }
    }

    /** Starts the server on a free loopback port with the cache directory and options given; waits until it listens. */
    static ServeProcess start(List<String> jvmOptions, Path cache, String... options) throws IOException, InterruptedException {
        return startListening("127.0.0.1:0", jvmOptions, cache, options);
    }

    /** As {@link #start}, listening where {@code listen} says (a HOST:PORT or unix:PATH). */
    static ServeProcess startListening(String listen, List<String> jvmOptions, Path cache, String... options)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "serve", "--listen", listen, "--cache-dir", cache.toString()));
        command.addAll(List.of(options));
        return new ServeProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** Every line the server has printed so far. */
    List<String> output() {
        return new ArrayList<>(output);
    }

    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) return;
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }
}
