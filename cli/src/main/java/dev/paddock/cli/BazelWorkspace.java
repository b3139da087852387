package dev.paddock.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Bazel workspace that builds offline with Debian's Bazel 4.2.3: its WORKSPACE points
 * rules_cc, rules_java and remote_coverage_tools at local stand-ins whose rules forward to
 * Bazel's native ones (Bazel would otherwise download them).
 */
final class BazelWorkspace {
    private static final List<String> STAND_IN_FILES = List.of(
            "rules_cc/WORKSPACE", "rules_cc/BUILD", "rules_cc/cc/BUILD", "rules_cc/cc/defs.bzl",
            "rules_java/WORKSPACE", "rules_java/BUILD", "rules_java/java/BUILD", "rules_java/java/defs.bzl",
            "remote_coverage_tools/WORKSPACE", "remote_coverage_tools/BUILD");

    private BazelWorkspace() {}

    /**
     * Writes the stand-ins into standIns and a WORKSPACE (and a .bazelrc quieting Debian's
     * --sandbox_debug) into workspace, which must exist.
     */
    static void prepare(Path workspace, Path standIns) throws IOException {
        for (String f : STAND_IN_FILES) {
            Path target = standIns.resolve(f);
            Files.createDirectories(target.getParent());
            try (InputStream in = BazelWorkspace.class.getResourceAsStream("bazel/stand-ins/" + f)) {
                if (in == null) throw new IOException("paddock is missing its resource bazel/stand-ins/" + f);
                Files.copy(in, target);
            }
        }
        List<String> lines = new ArrayList<>(List.of("workspace(name = \"paddock_workspace\")"));
        for (String repo : List.of("rules_cc", "rules_java", "remote_coverage_tools"))
            lines.add("local_repository(name = \"" + repo + "\", path = \"" + standIns.resolve(repo) + "\")");
        Files.write(workspace.resolve("WORKSPACE"), lines);
        // Debian's system rc turns on --sandbox_debug, which floods the output.
        Files.writeString(workspace.resolve(".bazelrc"), "build --nosandbox_debug\n");
    }

    /**
     * The start of a Bazel command line: no user rc file (Debian's Bazel takes its install base
     * from the system one), and all state under outputRoot.
     */
    static List<String> command(Path outputRoot, boolean batch) {
        List<String> c = new ArrayList<>(List.of("bazel"));
        if (batch) c.add("--batch");
        c.addAll(List.of("--nohome_rc", "--output_user_root=" + outputRoot));
        return c;
    }
}
