package dev.paddock.remote;

import static dev.paddock.remote.RemoteFixture.assertStatus;
import static dev.paddock.remote.RemoteFixture.digest;
import static dev.paddock.remote.RemoteFixture.format;
import static dev.paddock.remote.RemoteFixture.shell;
import static dev.paddock.remote.RemoteFixture.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecuteOperationMetadata;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.OutputSymlink;
import build.bazel.remote.execution.v2.Tree;
import com.google.longrunning.Operation;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import com.google.rpc.Code;
import com.google.rpc.PreconditionFailure;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Execute with the server's default sandbox (AUTO, hermetic): outputs, inputs, environment, caching, failures. */
@Timeout(180)
class ExecutionTest extends ServerTest {
    static final String SCRIPT = "mkdir -p out/d && cat in/a.txt > out/f && printf x > out/d/g && ln -s f out/link"
            + " && echo to-stdout && echo to-stderr >&2 && chmod +x out/f";
    static final String A_TXT = "the content of a\n";

    @BeforeEach
    void start() throws Exception {
        remote = RemoteFixture.start(cache);
    }

    /** Runs the action, which must complete with status OK and exit 0 (unless exit says otherwise). */
    private ActionResult runOk(Digest action) {
        ExecuteResponse response = remote.execute(action).response();
        assertEquals(Code.OK_VALUE, response.getStatus().getCode(), response.getStatus().toString());
        assertEquals(0, response.getResult().getExitCode(), remote.describe(response.getResult()));
        return response.getResult();
    }

    static void assertStagesInOrder(List<ExecutionStage.Value> stages, ExecutionStage.Value... expected) {
        int at = -1;
        for (ExecutionStage.Value e : expected) {
            int next = stages.subList(at + 1, stages.size()).indexOf(e);
            assertTrue(next >= 0, "no " + e + " after position " + at + " in " + stages);
            at += 1 + next;
        }
    }

    @Test
    void runsTheCommandAndCollectsOutputPaths() {
        Digest action = remote.uploadAction(shell(SCRIPT, "out/f", "out/d", "out/link"),
                new InputTree().file("in/a.txt", A_TXT));
        RemoteFixture.ExecuteRun run = remote.execute(action);

        assertStagesInOrder(run.stages(), ExecutionStage.Value.CACHE_CHECK, ExecutionStage.Value.QUEUED,
                ExecutionStage.Value.EXECUTING, ExecutionStage.Value.COMPLETED);
        for (Operation op : run.operations()) {
            assertEquals(run.name(), op.getName(), "one operation name throughout");
            assertEquals(action, RemoteFixture.unpack(op.getMetadata(), ExecuteOperationMetadata.class).getActionDigest());
        }
        for (Operation op : run.operations().subList(0, run.operations().size() - 1)) assertFalse(op.getDone());
        ExecuteResponse response = run.response();
        assertEquals(Code.OK_VALUE, response.getStatus().getCode());
        assertFalse(response.getCachedResult());
        ActionResult r = response.getResult();
        assertEquals(0, r.getExitCode(), remote.describe(r));

        assertEquals(List.of(OutputFile.newBuilder().setPath("out/f").setDigest(digest(utf8(A_TXT))).setIsExecutable(true).build()),
                r.getOutputFilesList());
        assertEquals(utf8(A_TXT), remote.read(r.getOutputFiles(0).getDigest()));

        assertEquals(1, r.getOutputDirectoriesCount());
        OutputDirectory dir = r.getOutputDirectories(0);
        assertEquals("out/d", dir.getPath());
        Tree tree = parseTree(remote.read(dir.getTreeDigest()));
        assertEquals(List.of(FileNode.newBuilder().setName("g").setDigest(digest(utf8("x"))).build()), tree.getRoot().getFilesList());
        assertEquals(utf8("x"), remote.read(tree.getRoot().getFiles(0).getDigest()));

        assertEquals(List.of(OutputSymlink.newBuilder().setPath("out/link").setTarget("f").build()), r.getOutputSymlinksList());
        assertEquals("to-stdout\n", remote.text(r.getStdoutDigest()));
        assertEquals("to-stderr\n", remote.text(r.getStderrDigest()));

        assertTrue(r.hasExecutionMetadata());
        assertTrue(r.getExecutionMetadata().hasExecutionStartTimestamp());
        assertEquals(r, remote.getActionResult(action), "a successful result goes into the action cache");
    }

    private static Tree parseTree(ByteString data) {
        try {
            return Tree.parseFrom(data);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError("the output directory's tree does not parse", e);
        }
    }

    @Test
    void outputFilesAndDirectoriesInTheOldStyle() {
        Command command = Command.newBuilder(shell(SCRIPT + " && mkdir -p out/e/sub && printf y > out/e/sub/h && chmod +x out/e/sub/h && ln -s sub out/e/s"))
                .addOutputFiles("out/f").addOutputFiles("out/link").addOutputFiles("out/never-made")
                .addOutputDirectories("out/d").addOutputDirectories("out/e").build();
        Digest action = remote.uploadAction(command, new InputTree().file("in/a.txt", A_TXT));
        ActionResult r = runOk(action);

        assertEquals(List.of("out/f"), r.getOutputFilesList().stream().map(OutputFile::getPath).toList(),
                "a declared output the action did not make is left out");
        assertTrue(r.getOutputFiles(0).getIsExecutable());
        assertEquals(List.of(OutputSymlink.newBuilder().setPath("out/link").setTarget("f").build()), r.getOutputFileSymlinksList());
        assertEquals(0, r.getOutputSymlinksCount(), "output_files style: symlinks go to output_file_symlinks");

        Map<String, Tree> trees = new LinkedHashMap<>();
        for (OutputDirectory d : r.getOutputDirectoriesList()) trees.put(d.getPath(), parseTree(remote.read(d.getTreeDigest())));
        assertEquals(Set.of("out/d", "out/e"), trees.keySet());
        assertEquals("g", trees.get("out/d").getRoot().getFiles(0).getName());

        Tree e = trees.get("out/e");
        assertEquals(1, e.getRoot().getDirectoriesCount());
        DirectoryNode sub = e.getRoot().getDirectories(0);
        assertEquals("sub", sub.getName());
        assertEquals(1, e.getChildrenCount(), "the tree holds the subdirectory");
        Directory child = e.getChildren(0);
        assertEquals(sub.getDigest(), digest(child));
        assertEquals("h", child.getFiles(0).getName());
        assertTrue(child.getFiles(0).getIsExecutable());
        assertFalse(trees.get("out/d").getRoot().getFiles(0).getIsExecutable());
        assertEquals(utf8("y"), remote.read(child.getFiles(0).getDigest()));
        assertEquals("s", e.getRoot().getSymlinks(0).getName());
        assertEquals("sub", e.getRoot().getSymlinks(0).getTarget());
    }

    @Test
    void executableInputsAreExecutableAndOthersAreNot() {
        Digest action = remote.uploadAction(shell("./bin/tool one two && if [ -x bin/plain ]; then echo plain-x; else echo plain-not-x; fi"),
                new InputTree().executable("bin/tool", "#!/bin/sh\necho tool-ran \"$@\"\n")
                        .file("bin/plain", "#!/bin/sh\necho plain-ran\n"));
        ActionResult r = runOk(action);
        assertEquals("tool-ran one two\nplain-not-x\n", remote.text(r.getStdoutDigest()));
    }

    @Test
    void theSameContentCanBeExecutableAndNot() {
        String script = "#!/bin/sh\necho same\n";
        Digest action = remote.uploadAction(shell("./x && if [ -x y ]; then echo y-x; else echo y-not-x; fi"),
                new InputTree().executable("x", script).file("y", script));
        assertEquals("same\ny-not-x\n", remote.text(runOk(action).getStdoutDigest()));
        // and the other way round, in a second action over the same blob
        Digest swapped = remote.uploadAction(shell("./y && if [ -x x ]; then echo x-x; else echo x-not-x; fi"),
                new InputTree().file("x", script).executable("y", script));
        assertEquals("same\nx-not-x\n", remote.text(runOk(swapped).getStdoutDigest()));
    }

    @Test
    void inputSymlinksAndEmptyDirectoriesAreMaterialised() {
        Digest action = remote.uploadAction(shell("cat link && cat d/up && [ -d empty ] && [ -z \"$(ls -A empty)\" ] && echo empty-ok"),
                new InputTree().file("data.txt", "linked\n").symlink("link", "data.txt").symlink("d/up", "../data.txt")
                        .directory("empty"));
        assertEquals("linked\nlinked\nempty-ok\n", remote.text(runOk(action).getStdoutDigest()));
    }

    @Test
    void theWorkingDirectoryIsHonoured() {
        Command command = Command.newBuilder(shell("cat data.txt > result.txt && echo m > made/here && pwd && ls ../top.txt",
                "result.txt", "made/here")).setWorkingDirectory("sub/dir").build();
        Digest action = remote.uploadAction(command,
                new InputTree().file("sub/dir/data.txt", "data\n").file("sub/top.txt", "top\n"));
        ActionResult r = runOk(action);

        assertTrue(remote.text(r.getStdoutDigest()).endsWith("/sub/dir\n../top.txt\n"), remote.describe(r));
        assertEquals(List.of("made/here", "result.txt"), r.getOutputFilesList().stream().map(OutputFile::getPath).sorted().toList(),
                "output paths are relative to the working directory");
        for (OutputFile f : r.getOutputFilesList())
            assertEquals(f.getPath().equals("result.txt") ? utf8("data\n") : utf8("m\n"), remote.read(f.getDigest()));
    }

    @Test
    void theEnvironmentIsExactlyTheCommands() {
        Command command = Command.newBuilder().addArguments("/usr/bin/env")
                .addEnvironmentVariables(env("PATH", "/usr/bin:/bin"))
                .addEnvironmentVariables(env("GREETING", "hello world"))
                .addEnvironmentVariables(env("EMPTY", ""))
                .addEnvironmentVariables(env("WITH_EQUALS", "a=b=c")).build();
        ActionResult r = runOk(remote.uploadAction(command, new InputTree()));

        Set<String> lines = Arrays.stream(remote.text(r.getStdoutDigest()).split("\n"))
                .filter(l -> !l.isEmpty())
                // where the host refuses namespaces, AUTO degrades to Landlock and passes a private TMPDIR
                .filter(l -> !l.startsWith("TMPDIR="))
                .collect(Collectors.toSet());
        assertEquals(Set.of("PATH=/usr/bin:/bin", "GREETING=hello world", "EMPTY=", "WITH_EQUALS=a=b=c"), lines,
                "nothing of the server's environment (HOME, USER, JAVA_HOME...) leaks in");

        Command noHome = Command.newBuilder().addArguments("/bin/sh").addArguments("-c")
                .addArguments("echo \"HOME=${HOME-unset} USER=${USER-unset}\"").build();
        assertEquals("HOME=unset USER=unset\n", remote.text(runOk(remote.uploadAction(noHome, new InputTree())).getStdoutDigest()));
        Command home = noHome.toBuilder().addEnvironmentVariables(env("HOME", "/nonexistent/home")).build();
        assertEquals("HOME=/nonexistent/home USER=unset\n",
                remote.text(runOk(remote.uploadAction(home, new InputTree())).getStdoutDigest()));
    }

    private static Command.EnvironmentVariable env(String name, String value) {
        return Command.EnvironmentVariable.newBuilder().setName(name).setValue(value).build();
    }

    @Test
    void aSecondExecuteIsServedFromTheCacheUnlessSkipped() {
        // the output differs on every run: date in nanoseconds
        Digest action = remote.uploadAction(shell("date +%s%N > stamp && cat stamp", "stamp"), new InputTree());
        ActionResult first = runOk(action);

        RemoteFixture.ExecuteRun second = remote.execute(action);
        assertTrue(second.response().getCachedResult());
        assertEquals(Code.OK_VALUE, second.response().getStatus().getCode());
        assertEquals(first, second.result());
        assertTrue(second.stages().contains(ExecutionStage.Value.CACHE_CHECK));
        assertFalse(second.stages().contains(ExecutionStage.Value.EXECUTING), "a cache hit does not run: " + second.stages());

        RemoteFixture.ExecuteRun third = remote.execute(ExecuteRequest.newBuilder().setActionDigest(action)
                .setSkipCacheLookup(true).build());
        assertFalse(third.response().getCachedResult());
        assertFalse(third.stages().contains(ExecutionStage.Value.CACHE_CHECK), third.stages().toString());
        assertStagesInOrder(third.stages(), ExecutionStage.Value.QUEUED, ExecutionStage.Value.EXECUTING);
        assertEquals(0, third.result().getExitCode());
        assertNotEquals(first.getStdoutDigest(), third.result().getStdoutDigest(), "it ran again");
        assertEquals(third.result(), remote.getActionResult(action), "and its result replaced the cached one");
    }

    @Test
    void doNotCacheIsHonoured() {
        Digest action = remote.uploadAction(shell("date +%s%N"), new InputTree(), a -> a.setDoNotCache(true));
        ActionResult first = runOk(action);
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action));

        RemoteFixture.ExecuteRun again = remote.execute(action);
        assertFalse(again.response().getCachedResult());
        assertTrue(again.stages().contains(ExecutionStage.Value.EXECUTING));
        assertNotEquals(first.getStdoutDigest(), again.result().getStdoutDigest());
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action));
    }

    @Test
    void aNonZeroExitIsReportedAndNotCached() {
        Digest action = remote.uploadAction(shell("echo failing; echo why >&2; mkdir -p out; echo partial > out/p; exit 3", "out/p"),
                new InputTree());
        ExecuteResponse response = remote.execute(action).response();
        assertEquals(Code.OK_VALUE, response.getStatus().getCode(), "the action ran: status OK, whatever its exit code");
        ActionResult r = response.getResult();
        assertEquals(3, r.getExitCode());
        assertEquals("failing\n", remote.text(r.getStdoutDigest()));
        assertEquals("why\n", remote.text(r.getStderrDigest()));
        assertEquals(utf8("partial\n"), remote.read(r.getOutputFiles(0).getDigest()), "outputs of a failed action are kept");
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action));

        ExecuteResponse again = remote.execute(action).response();
        assertFalse(again.getCachedResult());
        assertEquals(3, again.getResult().getExitCode());
    }

    @Test
    void anActionPastItsTimeoutIsKilledAndNotCached() {
        Digest action = remote.uploadAction(shell("echo started; sleep 60; echo never"), new InputTree(),
                a -> a.setTimeout(Duration.newBuilder().setSeconds(1)));
        long start = System.nanoTime();
        ExecuteResponse response = remote.execute(action).response();
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;

        assertEquals(Code.DEADLINE_EXCEEDED_VALUE, response.getStatus().getCode(), response.toString());
        assertTrue(seconds < 30, "killed after " + seconds + " s");
        assertFalse(response.getCachedResult());
        assertEquals("started\n", remote.text(response.getResult().getStdoutDigest()));
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action));
        assertFalse(remote.execute(action).response().getCachedResult(), "a timed-out action runs again");
    }

    @Test
    void missingInputsAreAPreconditionFailureNamingEachBlob() {
        Digest absentFile = digest(utf8("never uploaded file"));
        Directory absentDir = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("z").setDigest(absentFile)).build();
        Digest presentFile = remote.put(utf8("present"));
        Directory root = Directory.newBuilder()
                .addFiles(FileNode.newBuilder().setName("a").setDigest(absentFile))
                .addFiles(FileNode.newBuilder().setName("b").setDigest(presentFile))
                .addDirectories(DirectoryNode.newBuilder().setName("sub").setDigest(digest(absentDir))).build();
        Command command = shell("true");
        build.bazel.remote.execution.v2.Action action = build.bazel.remote.execution.v2.Action.newBuilder()
                .setCommandDigest(digest(command)).setInputRootDigest(digest(root)).build();
        remote.put(root);
        remote.put(action); // the Command is missing too

        ExecuteResponse response = remote.execute(digest(action)).response();
        assertEquals(Code.FAILED_PRECONDITION_VALUE, response.getStatus().getCode(), response.getStatus().toString());
        assertEquals(Set.of("blobs/" + format(absentFile), "blobs/" + format(digest(absentDir)), "blobs/" + format(digest(command))),
                missingSubjects(response), "one MISSING violation per missing blob");
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(digest(action)));

        // upload what was missing, and it runs
        remote.put(command);
        remote.put(absentDir);
        assertEquals(Set.of("blobs/" + format(absentFile)), missingSubjects(remote.execute(digest(action)).response()));
        remote.put(utf8("never uploaded file"));
        ExecuteResponse ok = remote.execute(digest(action)).response();
        assertEquals(Code.OK_VALUE, ok.getStatus().getCode(), ok.getStatus().toString());
        assertEquals(0, ok.getResult().getExitCode());
    }

    @Test
    void aMissingActionIsAPreconditionFailure() {
        Digest action = digest(build.bazel.remote.execution.v2.Action.newBuilder().setCommandDigest(digest(shell("true")))
                .setInputRootDigest(RemoteFixture.EMPTY).build());
        ExecuteResponse response = remote.execute(action).response();
        assertEquals(Code.FAILED_PRECONDITION_VALUE, response.getStatus().getCode());
        assertEquals(Set.of("blobs/" + format(action)), missingSubjects(response));
    }

    @Test
    void aMissingActionTooLargeToReadWholeIsAPreconditionFailure() {
        // no Action message is this large, but a digest that says so names a blob the store lacks
        Digest action = Digest.newBuilder(digest(utf8("no such action"))).setSizeBytes(100L << 20).build();
        ExecuteResponse response = remote.execute(action).response();
        assertEquals(Code.FAILED_PRECONDITION_VALUE, response.getStatus().getCode(), response.getStatus().toString());
        assertEquals(Set.of("blobs/" + format(action)), missingSubjects(response));
    }

    private static Set<String> missingSubjects(ExecuteResponse response) {
        assertEquals(Code.FAILED_PRECONDITION_VALUE, response.getStatus().getCode(), response.getStatus().toString());
        Set<String> subjects = new HashSet<>();
        int failures = 0;
        for (Any detail : response.getStatus().getDetailsList()) {
            if (!detail.is(PreconditionFailure.class)) continue;
            failures++;
            for (PreconditionFailure.Violation v : RemoteFixture.unpack(detail, PreconditionFailure.class).getViolationsList()) {
                assertEquals("MISSING", v.getType());
                assertTrue(subjects.add(v.getSubject()), "a blob named twice: " + v.getSubject());
            }
        }
        assertEquals(1, failures, "one PreconditionFailure detail: " + response.getStatus());
        return subjects;
    }

    @Test
    void malformedExecuteRequestsAreRefused() {
        Digest bad = Digest.newBuilder().setHash("not-a-hash").setSizeBytes(10).build();
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.execute(bad), "action_digest");
        Digest negative = Digest.newBuilder(digest(utf8("x"))).setSizeBytes(-1).build();
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.execute(negative), "action_digest");
        Digest action = remote.uploadAction(shell("true"), new InputTree());
        assertStatus(Status.Code.INVALID_ARGUMENT, () -> remote.execute(ExecuteRequest.newBuilder().setActionDigest(action)
                .setDigestFunction(DigestFunction.Value.MD5).build()));
    }

    @Test
    void invalidActionsFailWithInvalidArgument() {
        // input names that are not a plain name
        Command command = shell("true");
        remote.put(command);
        for (String name : List.of("../escape", "..", ".", "a/b", "")) {
            Directory root = Directory.newBuilder().addFiles(FileNode.newBuilder().setName(name).setDigest(RemoteFixture.EMPTY)).build();
            remote.put(root);
            Digest action = remote.put(build.bazel.remote.execution.v2.Action.newBuilder().setCommandDigest(digest(command))
                    .setInputRootDigest(digest(root)).build());
            ExecuteResponse response = remote.execute(action).response();
            assertEquals(Code.INVALID_ARGUMENT_VALUE, response.getStatus().getCode(), "input name '" + name + "': " + response);
        }

        // an output path that leaves the input root
        Digest escaping = remote.uploadAction(shell("true", "../../outside"), new InputTree());
        assertEquals(Code.INVALID_ARGUMENT_VALUE, remote.execute(escaping).response().getStatus().getCode());

        // a working directory that does
        Digest wd = remote.uploadAction(shell("true").toBuilder().setWorkingDirectory("../..").build(), new InputTree());
        assertEquals(Code.INVALID_ARGUMENT_VALUE, remote.execute(wd).response().getStatus().getCode());

        // no arguments at all
        Digest empty = remote.uploadAction(Command.getDefaultInstance(), new InputTree());
        assertEquals(Code.INVALID_ARGUMENT_VALUE, remote.execute(empty).response().getStatus().getCode());

        // one name twice in a directory
        Directory twice = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("x").setDigest(RemoteFixture.EMPTY))
                .addDirectories(DirectoryNode.newBuilder().setName("x").setDigest(digest(Directory.getDefaultInstance()))).build();
        remote.put(twice);
        remote.put(Directory.getDefaultInstance());
        Digest dup = remote.put(build.bazel.remote.execution.v2.Action.newBuilder().setCommandDigest(digest(command))
                .setInputRootDigest(digest(twice)).build());
        assertEquals(Code.INVALID_ARGUMENT_VALUE, remote.execute(dup).response().getStatus().getCode());

        // a negative timeout
        Digest negative = remote.uploadAction(shell("true"), new InputTree(), a -> a.setTimeout(Duration.newBuilder().setSeconds(-1)));
        assertEquals(Code.INVALID_ARGUMENT_VALUE, remote.execute(negative).response().getStatus().getCode());
    }

    @Test
    void aCommandThatDoesNotExistIsReportedNotCached() {
        Command command = Command.newBuilder().addArguments("/no/such/program").build();
        Digest action = remote.uploadAction(command, new InputTree());
        ExecuteResponse response = remote.execute(action).response();
        assertNotEquals(0, response.getResult().getExitCode(), response.toString());
        assertStatus(Status.Code.NOT_FOUND, () -> remote.getActionResult(action));
    }

    // ---- the server itself must not follow symlinks out of the input root ----

    @Test
    void anOutputPathThroughASymlinkDoesNotReadFilesOutsideTheInputRoot(@TempDir Path outside) throws Exception {
        // A file the action cannot see in its sandbox, but the server (same user, no sandbox) can read.
        String secret = "secret of the host " + UUID.randomUUID() + "\n";
        Path secretFile = outside.resolve("secret.txt");
        Files.writeString(secretFile, secret);
        Files.setPosixFilePermissions(secretFile, PosixFilePermissions.fromString("rw-------"));
        Digest secretDigest = digest(utf8(secret));
        Digest action = remote.uploadAction(shell("rmdir leak && ln -s " + outside + " leak", "leak/secret.txt"), new InputTree());

        ExecuteResponse response = remote.execute(action).response();
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(secretFile)), "the server changed the mode of a host file");
        for (OutputFile f : response.getResult().getOutputFilesList())
            assertNotEquals(secretDigest, f.getDigest(), "the output " + f.getPath() + " is a host file read through a symlink");
        assertEquals(List.of(secretDigest), remote.missing(secretDigest), "a host file outside the input root went into the store");
    }

    @Test
    void anOutputDirectoryThroughASymlinkDoesNotReadOutsideTheInputRoot(@TempDir Path outside) throws Exception {
        Files.createDirectories(outside.resolve("d"));
        String secret = "another secret " + UUID.randomUUID() + "\n";
        Files.writeString(outside.resolve("d/secret.txt"), secret);
        Command command = Command.newBuilder(shell("rmdir leak && ln -s " + outside + " leak")).addOutputDirectories("leak/d").build();
        ExecuteResponse response = remote.execute(remote.uploadAction(command, new InputTree())).response();

        assertEquals(0, response.getResult().getOutputDirectoriesCount(), "a host directory was collected: " + response.getResult());
        assertEquals(List.of(digest(utf8(secret))), remote.missing(digest(utf8(secret))));
    }

    @Test
    void outputParentsAreNotCreatedThroughAnInputSymlink(@TempDir Path outside) {
        // The client's input root holds a symlink to an absolute host path, and an output path
        // goes through it: the server creates output parents before the action even starts.
        Command command = shell("true", "o/made-for-output/file");
        remote.execute(remote.uploadAction(command, new InputTree().symlink("o", outside.toString())));
        assertFalse(Files.exists(outside.resolve("made-for-output")),
                "the server created " + outside.resolve("made-for-output") + " on the host");
    }

    @Test
    void theWorkingDirectoryIsNotCreatedThroughAnInputSymlink(@TempDir Path outside) {
        Command command = shell("true").toBuilder().setWorkingDirectory("o/made-as-working-directory").build();
        remote.execute(remote.uploadAction(command, new InputTree().symlink("o", outside.toString())));
        assertFalse(Files.exists(outside.resolve("made-as-working-directory")),
                "the server created " + outside.resolve("made-as-working-directory") + " on the host");
    }
}
