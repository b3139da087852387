package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.paddock.testing.HostTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real compilers and runtimes inside the hermetic sandbox, as uid 65534, with
 * only the system directories bound: the toolchains that break in a chroot
 * without /proc or /dev. Each builds and runs a program that prints a token.
 * CI installs them (Debian: gcc, nodejs, python3, rustc, cargo, golang-go).
 */
class SandboxToolchainTest extends SandboxedTest {
    private static final String TOKEN = "paddock-toolchain-ok";

    @TempDir
    Path work;

    @BeforeEach
    void readableByTheSandboxUser() throws Exception {
        // As root, uid 65534 inside maps to root outside; as 65534 it is itself.
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    private String build(String script, Map<String, String> files) throws Exception {
        for (var file : files.entrySet()) {
            Path p = work.resolve(file.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, file.getValue());
        }
        Sandbox.Builder sandbox = Sandbox.newBuilder(Sandbox.Base.HERMETIC).uid(65534).gid(65534);
        Path javaHome = Path.of(System.getProperty("java.home"));
        if (Sandbox.SYSTEM_DIRECTORIES.stream().noneMatch(javaHome::startsWith)) sandbox.readOnly(javaHome);
        return output(Action.newBuilder("sh", "-euc", "test \"$(id -u)\" = 65534; " + script)
                .directory(work)
                .environment(Map.of("PATH", "/usr/local/bin:/usr/bin:/bin", "HOME", "/tmp", "LANG", "C.UTF-8",
                        "JAVA_HOME", javaHome.toString()))
                .stderr(Stdio.inherit())
                .sandbox(sandbox.build()));
    }

    private void assertPrintsToken(String script, Map<String, String> files) throws Exception {
        String out = build(script, files);
        assertTrue(out.contains(TOKEN), "expected " + TOKEN + " in: " + out);
    }

    @Test
    void gccCompilesAndRuns() throws Exception {
        HostTools.require("gcc", "gcc");
        assertPrintsToken("gcc -O1 -o hello hello.c && ./hello",
                Map.of("hello.c", "#include <stdio.h>\nint main(void) { puts(\"" + TOKEN + "\"); return 0; }\n"));
    }

    @Test
    void javacAndJava() throws Exception {
        assertPrintsToken("\"$JAVA_HOME/bin/javac\" -d classes Hello.java && \"$JAVA_HOME/bin/java\" -cp classes Hello",
                Map.of("Hello.java", "class Hello { public static void main(String[] a) { System.out.println(\""
                        + TOKEN + "\"); } }\n"));
    }

    @Test
    void node() throws Exception {
        HostTools.require("nodejs", "node");
        assertPrintsToken("node hello.js", Map.of("hello.js",
                "const fs = require('fs'); fs.writeFileSync('/tmp/x', '" + TOKEN + "');"
                        + " console.log(fs.readFileSync('/tmp/x', 'utf8'), process.execPath);\n"));
    }

    @Test
    void python3() throws Exception {
        HostTools.require("python3", "python3");
        assertPrintsToken("python3 hello.py", Map.of("hello.py",
                "import os, sys, tempfile\nwith tempfile.NamedTemporaryFile() as f: pass\n"
                        + "print('" + TOKEN + "', os.path.realpath('/proc/self/exe'), sys.executable)\n"));
    }

    @Test
    void rustc() throws Exception {
        HostTools.require("rustc", "rustc");
        assertPrintsToken("rustc -o hello hello.rs && ./hello", Map.of("hello.rs",
                "fn main() { println!(\"{} {:?}\", \"" + TOKEN + "\", std::env::current_exe().unwrap()); }\n"));
    }

    @Test
    void cargoBuildOffline() throws Exception {
        HostTools.require("cargo", "cargo");
        assertPrintsToken("CARGO_HOME=/tmp/cargo cargo build --offline --quiet && ./target/debug/tiny", Map.of(
                "Cargo.toml", "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2018\"\n\n[dependencies]\n",
                "src/main.rs", "fn main() { println!(\"" + TOKEN + "\"); }\n"));
    }

    @Test
    void goBuild() throws Exception {
        HostTools.require("golang-go", "go");
        String out = build("GOCACHE=/tmp/go-cache GOPATH=/tmp/go GOPROXY=off GOFLAGS=-mod=mod go build -o hello . "
                + "&& ./hello", Map.of(
                "go.mod", "module example.com/hello\n\ngo 1.19\n",
                "main.go", "package main\n\nimport (\n\t\"fmt\"\n\t\"runtime\"\n)\n\n"
                        + "func main() { fmt.Println(\"" + TOKEN + "\", runtime.GOROOT() != \"\") }\n"));
        assertEquals(TOKEN + " true", out.trim());
    }
}
