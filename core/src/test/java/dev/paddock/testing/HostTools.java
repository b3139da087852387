package dev.paddock.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Host programs that some tests drive (toolchains, strace, tmux, Bazel...). A test that needs
 * one calls {@link #require}: where it is missing the test is skipped with a message naming the
 * program and the Debian package that brings it, which {@code ./test} installs when run as root.
 */
public final class HostTools {
    /** Where the tests' actions look for programs: the PATH they are given, plus root's sbin. */
    private static final List<String> DIRECTORIES = List.of("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin");

    private HostTools() {}

    /** The program's path, if it is installed in one of the usual directories. */
    public static Optional<Path> find(String program) {
        return DIRECTORIES.stream().map(d -> Path.of(d, program)).filter(Files::isExecutable).findFirst();
    }

    /** Skips the calling test unless every program is installed; {@code debianPackage} brings them. */
    public static void require(String debianPackage, String... programs) {
        List<String> missing = Stream.of(programs).filter(p -> find(p).isEmpty()).toList();
        assumeTrue(missing.isEmpty(), () -> String.join(", ", missing) + " not installed: this test needs it"
                + " (install it with `apt-get install " + debianPackage + "`; ./test does so when run as root)");
    }
}
