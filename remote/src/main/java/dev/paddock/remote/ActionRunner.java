package dev.paddock.remote;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.OutputSymlink;
import build.bazel.remote.execution.v2.Platform;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.bazel.remote.execution.v2.Tree;
import com.google.protobuf.Any;
import com.google.protobuf.Timestamp;
import com.google.rpc.Code;
import com.google.rpc.PreconditionFailure;
import dev.paddock.Execution;
import dev.paddock.Limits;
import dev.paddock.Outcome;
import dev.paddock.Paddock;
import dev.paddock.Sandbox;
import dev.paddock.Stdio;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Runs one action: fetches its Action, Command and input tree, lays the inputs out of the store
 * into a fresh input root (hard links the sandbox mounts read-only, copies where the action may
 * write), runs the command there through paddock's sandbox, and stores its outputs, stdout and
 * stderr. Successful results go into the action cache.
 */
final class ActionRunner {
    /**
     * Bounds of an input tree as laid out on disk. Directory blobs may share subtrees, so a few
     * small ones can expand to more entries than a disk holds: the expansion is counted first.
     */
    static final long MAX_INPUT_ENTRIES = 2_000_000;
    static final int MAX_INPUT_DEPTH = 512;

    private final BlobStore store;
    private final ActionCacheStore cache;
    private final Paddock paddock;
    private final Path work;
    private final Function<Path, Optional<Sandbox.Builder>> sandboxFor;
    private final InputTrees trees;
    private final Limits limits;
    private final String worker;

    /**
     * @param work       where input roots are made; on the store's file system, so that inputs
     *                   are hard links rather than copies
     * @param sandboxFor the sandbox for an action whose input root is the given directory, or
     *                   empty to run actions contained but not sandboxed
     * @param trees      input subtrees laid out once, which sandboxes bind read-only
     * @param limits     every action's limits; platform properties may lower them
     */
    ActionRunner(BlobStore store, ActionCacheStore cache, Paddock paddock, Path work,
                 Function<Path, Optional<Sandbox.Builder>> sandboxFor, InputTrees trees, Limits limits)
            throws IOException {
        this.store = store;
        this.cache = cache;
        this.paddock = paddock;
        this.work = work;
        this.sandboxFor = sandboxFor;
        this.trees = trees;
        this.limits = limits;
        clearLeftovers(work);
        Files.createDirectories(work);
        String host;
        try {
            host = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            host = "localhost";
        }
        this.worker = "paddock@" + host;
    }

    /**
     * Removes the input roots a crash left behind. What cannot be removed (a file system gone
     * read-only, say) is moved aside, so that it never stops the server from starting.
     */
    private static void clearLeftovers(Path work) throws IOException {
        try {
            FileTrees.deleteRecursively(work);
        } catch (IOException e) {
            Path aside = work.resolveSibling(work.getFileName() + ".unremovable-" + UUID.randomUUID());
            Files.move(work, aside);
            System.err.println("paddock serve: could not remove " + work + " (" + e.getMessage() + "); moved it to "
                    + aside + " for you to look at");
        }
    }

    ExecuteResponse run(RemoteOperation op) throws InterruptedException {
        Path dir = work.resolve(UUID.randomUUID().toString());
        try (BlobStore.Pin pin = store.pin(); InputTrees.Lease lease = trees.lease()) {
            try {
                return run(op, dir, pin, lease);
            } finally {
                FileTrees.deleteRecursively(dir);
            }
        } catch (BadRequest e) {
            return ExecutionService.failure(Code.INVALID_ARGUMENT, e.getMessage());
        } catch (IOException e) {
            return ExecutionService.failure(Code.INTERNAL, "paddock serve: " + e);
        }
    }

    private ExecuteResponse run(RemoteOperation op, Path dir, BlobStore.Pin pin, InputTrees.Lease lease)
            throws IOException, BadRequest, InterruptedException {
        ExecutedActionMetadata.Builder meta = ExecutedActionMetadata.newBuilder().setWorker(worker)
                .setQueuedTimestamp(timestamp(op.queuedAt)).setWorkerStartTimestamp(now())
                .setInputFetchStartTimestamp(now());
        List<Digest> missing = new ArrayList<>();
        pin.add(op.actionDigest);
        Optional<Action> action = store.readMessage(op.actionDigest, Action.parser(), "Action");
        if (action.isEmpty()) return missing(List.of(op.actionDigest));
        Digest commandDigest = Digests.check(action.get().getCommandDigest(), "Action.command_digest");
        Digest rootDigest = Digests.check(action.get().getInputRootDigest(), "Action.input_root_digest");
        pin.add(commandDigest);
        Optional<Command> command = store.readMessage(commandDigest, Command.parser(), "Command");
        if (command.isEmpty()) missing.add(commandDigest);
        Map<Digest, Directory> tree = fetchTree(rootDigest, pin, missing);
        if (!missing.isEmpty()) return missing(missing);
        Command cmd = command.orElseThrow();
        if (cmd.getArgumentsCount() == 0) throw new BadRequest("Command " + Digests.format(commandDigest) + " has no arguments");

        checkExpansion(tree, rootDigest);
        Path root = dir.resolve("root");
        Files.createDirectories(root);
        Path workingDirectory = inside(root, cmd.getWorkingDirectory(), "Command.working_directory");
        List<Path> outputs = new ArrayList<>();
        for (String out : outputPaths(cmd)) outputs.add(inside(workingDirectory, out, "output path"));
        Optional<Sandbox.Builder> sandbox = sandboxFor.apply(root);
        InputLayout layout = new InputLayout(root, workingDirectory, outputs, sandbox.isPresent());
        materialise(tree, rootDigest, root, layout, lease);
        makeDirectories(root, workingDirectory, "Command.working_directory '" + cmd.getWorkingDirectory() + "'");
        for (int i = 0; i < outputs.size(); i++) {
            Path parent = outputs.get(i).getParent();
            if (parent != null && parent.startsWith(workingDirectory))
                makeDirectories(root, parent, "output path '" + outputPaths(cmd).get(i) + "'");
        }
        meta.setInputFetchCompletedTimestamp(now());

        Path stdout = dir.resolve("stdout");
        Path stderr = dir.resolve("stderr");
        Map<String, String> environment = new LinkedHashMap<>();
        cmd.getEnvironmentVariablesList().forEach(v -> environment.put(v.getName(), v.getValue()));
        dev.paddock.Action.Builder spawn = dev.paddock.Action.newBuilder(cmd.getArgumentsList())
                .environment(environment).directory(workingDirectory)
                .stdout(Stdio.file(stdout)).stderr(Stdio.file(stderr));
        Duration timeout = Duration.ofSeconds(action.get().getTimeout().getSeconds(), action.get().getTimeout().getNanos());
        if (timeout.isNegative()) throw new BadRequest("Action.timeout " + timeout + " is negative");
        if (!timeout.isZero()) spawn.timeout(timeout);
        Platform platform = action.get().getPlatform().getPropertiesCount() > 0 ? action.get().getPlatform()
                : cmd.getPlatform();
        Limits limits = PlatformLimits.of(platform, this.limits, sandbox.isPresent());
        spawn.limits(limits);
        if (sandbox.isPresent()) {
            layout.binds.forEach((at, laidOut) -> sandbox.get().readOnly(laidOut, at));
            spawn.sandbox(sandbox.get().build());
        }

        meta.setExecutionStartTimestamp(now());
        Execution execution = paddock.start(spawn.build());
        op.running(execution);
        Outcome outcome = execution.await();
        meta.setExecutionCompletedTimestamp(now());
        if (op.cancelled())
            return ExecutionService.failure(Code.CANCELLED, "cancelled while running: the client went away or the server stopped");
        if (outcome.setupFailure().isPresent())
            appendNote(stderr, outcome.setupFailure().get().describe());
        else {
            Optional<String> note = limitNote(outcome, limits);
            if (note.isPresent()) appendNote(stderr, note.get());
        }

        meta.setOutputUploadStartTimestamp(now());
        ActionResult.Builder result = ActionResult.newBuilder().setExitCode(outcome.exitCode());
        collectOutputs(cmd, workingDirectory, result, pin);
        result.setStdoutDigest(ingestLog(stdout, pin)).setStderrDigest(ingestLog(stderr, pin));
        meta.setOutputUploadCompletedTimestamp(now()).setWorkerCompletedTimestamp(now());
        result.setExecutionMetadata(meta);

        ExecuteResponse.Builder response = ExecuteResponse.newBuilder().setResult(result);
        if (outcome.timedOut()) {
            return response.setStatus(Rpcs.status(Code.DEADLINE_EXCEEDED,
                    "the action ran longer than its timeout of " + timeout.toMillis() + " ms and was killed")).build();
        }
        response.setStatus(Rpcs.OK);
        if (outcome.exitCode() == 0 && !action.get().getDoNotCache()) cache.put(op.instanceName, op.actionDigest, result.build(), ActionCacheStore.Origin.EXECUTED);
        return response.build();
    }

    /**
     * What to tell the client when a limit's signal ended the action, or ended a process it ran
     * (a shell then exits with 128 plus the signal's number). Memory and process limits make calls
     * fail instead, which the action reports itself.
     */
    private static Optional<String> limitNote(Outcome outcome, Limits limits) {
        String cpu = limits.cpuTime().map(t -> "its CPU time limit (" + (t.toSeconds() + (t.toNanosPart() > 0 ? 1 : 0))
                + " s)").orElse(null);
        String file = limits.fileSizeBytes().isPresent()
                ? "the file size limit (" + limits.fileSizeBytes().getAsLong() + " bytes)" : null;
        if (outcome.limitExceeded().isPresent())
            return Optional.of("ended by " + outcome.signal().orElseThrow() + ": the action reached "
                    + (outcome.limitExceeded().get().equals("cpu-time") ? cpu : file));
        if (outcome.exitCode() == 128 + 24 && cpu != null)
            return Optional.of("exit 152: a process the action ran was probably ended by SIGXCPU, at " + cpu);
        if (outcome.exitCode() == 128 + 25 && file != null)
            return Optional.of("exit 153: a process the action ran was probably ended by SIGXFSZ, at " + file);
        return Optional.empty();
    }

    /** A line from the server at the end of the action's stderr, which the client shows. */
    private static void appendNote(Path stderr, String note) throws IOException {
        Files.writeString(stderr, "paddock serve: " + note + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /** Every directory under root, by digest; blobs the store lacks are added to missing. */
    private Map<Digest, Directory> fetchTree(Digest rootDigest, BlobStore.Pin pin, List<Digest> missing)
            throws IOException, BadRequest {
        Map<Digest, Directory> tree = new HashMap<>();
        Deque<Digest> queue = new ArrayDeque<>(List.of(rootDigest));
        Set<Digest> missingSet = new LinkedHashSet<>();
        while (!queue.isEmpty()) {
            Digest d = queue.poll();
            if (tree.containsKey(d) || missingSet.contains(d)) continue;
            pin.add(d);
            Optional<Directory> dir = store.readMessage(d, Directory.parser(), "Directory");
            if (dir.isEmpty()) {
                missingSet.add(d);
                continue;
            }
            tree.put(d, dir.get());
            for (FileNode f : dir.get().getFilesList()) {
                Digests.check(f.getDigest(), "input file '" + f.getName() + "'");
                pin.add(f.getDigest());
                if (!store.contains(f.getDigest())) missingSet.add(f.getDigest());
            }
            for (DirectoryNode child : dir.get().getDirectoriesList())
                queue.add(Digests.check(child.getDigest(), "input directory '" + child.getName() + "'"));
        }
        missing.addAll(missingSet);
        return tree;
    }

    /** Refuses a tree that would lay out more than MAX_INPUT_ENTRIES entries or nest deeper than MAX_INPUT_DEPTH. */
    private static void checkExpansion(Map<Digest, Directory> tree, Digest root) throws BadRequest {
        Map<Digest, long[]> sizes = new HashMap<>(); // digest -> {entries below it, depth}
        long[] total = expansion(tree, root, sizes, 1);
        if (total[0] > MAX_INPUT_ENTRIES)
            throw new BadRequest("input tree: it lays out more than " + MAX_INPUT_ENTRIES + " files, directories"
                    + " and links (Directory messages that share subtrees are counted once per place they appear)");
    }

    private static long[] expansion(Map<Digest, Directory> tree, Digest digest, Map<Digest, long[]> sizes, int level)
            throws BadRequest {
        if (level > MAX_INPUT_DEPTH)
            throw new BadRequest("input tree: directories nest deeper than " + MAX_INPUT_DEPTH + " levels");
        long[] known = sizes.get(digest);
        if (known != null && known[1] + level <= MAX_INPUT_DEPTH + 1) return known;
        Directory dir = tree.get(digest);
        long entries = dir.getFilesCount() + dir.getSymlinksCount() + dir.getDirectoriesCount();
        long depth = 1;
        for (DirectoryNode d : dir.getDirectoriesList()) {
            long[] child = expansion(tree, d.getDigest(), sizes, level + 1);
            entries = Math.min(MAX_INPUT_ENTRIES + 1, entries + child[0]); // saturates: the sum could overflow
            depth = Math.max(depth, child[1] + 1);
        }
        long[] result = {entries, depth};
        sizes.put(digest, result);
        return result;
    }

    /**
     * Where inputs may be changed. An action runs as the server's user, so through a hard link
     * into the store it could chmod an input and rewrite the stored blob. Hence: a directory on
     * the way to the working directory or to an output's directory is writable and holds copies;
     * at or below an output path everything is a copy; every other subtree holds only inputs,
     * and the sandbox binds its shared, laid-out tree there read-only (chmod and writes fail
     * with EROFS). Without a sandbox there are no mounts, and every input is a copy.
     */
    private static final class InputLayout {
        private final Path root;
        private final Set<Path> writable = new HashSet<>();
        private final List<Path> outputs;
        private final boolean mounts;
        /** Where in the input root each read-only subtree goes, and its laid-out tree. */
        final Map<Path, Path> binds = new LinkedHashMap<>();
        private final Map<Digest, Boolean> holdsFiles = new HashMap<>();

        InputLayout(Path root, Path workingDirectory, List<Path> outputs, boolean mounts) {
            this.root = root;
            this.outputs = outputs;
            this.mounts = mounts;
            addWithParents(workingDirectory);
            for (Path out : outputs) if (out.getParent() != null) addWithParents(out.getParent());
        }

        private void addWithParents(Path dir) {
            for (Path p = dir; p != null && p.startsWith(root) && writable.add(p); p = p.getParent()) {}
        }

        /** Whether the directory at may stay hard-linked and be mounted read-only. */
        boolean readOnly(Path at) {
            return mounts && !writable.contains(at) && outputs.stream().noneMatch(at::startsWith);
        }

        boolean holdsFiles(Map<Digest, Directory> tree, Digest digest) {
            Boolean known = holdsFiles.get(digest);
            if (known != null) return known;
            Directory d = tree.get(digest);
            boolean files = d.getFilesCount() > 0;
            for (DirectoryNode child : d.getDirectoriesList()) files = holdsFiles(tree, child.getDigest()) || files;
            holdsFiles.put(digest, files);
            return files;
        }
    }

    /**
     * Lays digest's tree out at at: writable directories with copies of their files, and an empty
     * mount point for each subtree of inputs only, which the sandbox binds from its shared tree.
     */
    private void materialise(Map<Digest, Directory> tree, Digest digest, Path at, InputLayout layout,
                             InputTrees.Lease lease) throws IOException, BadRequest {
        if (layout.readOnly(at) && layout.holdsFiles(tree, digest)) {
            layout.binds.put(at, lease.tree(digest, tree));
            return;
        }
        Directory dir = tree.get(digest);
        Set<String> names = new HashSet<>();
        for (FileNode f : dir.getFilesList()) {
            Path target = at.resolve(checkName(f.getName(), names));
            Path blob = store.input(f);
            Files.copy(blob, target);
            Files.setPosixFilePermissions(target, f.getIsExecutable() ? COPY_EXECUTABLE : COPY_READ_ONLY);
        }
        for (SymlinkNode s : dir.getSymlinksList())
            Files.createSymbolicLink(at.resolve(checkName(s.getName(), names)), Path.of(s.getTarget()));
        for (DirectoryNode d : dir.getDirectoriesList()) {
            Path sub = at.resolve(checkName(d.getName(), names));
            Files.createDirectory(sub);
            materialise(tree, d.getDigest(), sub, layout, lease);
        }
    }

    /** A copied input has the mode its blob has in the store. */
    private static final Set<PosixFilePermission> COPY_READ_ONLY = PosixFilePermissions.fromString("r--------");
    private static final Set<PosixFilePermission> COPY_EXECUTABLE = PosixFilePermissions.fromString("r-x------");

    static String checkName(String name, Set<String> seen) throws BadRequest {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.indexOf('\0') >= 0)
            throw new BadRequest("input tree: '" + name + "' is not a valid file name");
        if (!seen.add(name)) throw new BadRequest("input tree: '" + name + "' appears twice in one directory");
        return name;
    }

    /** base.resolve(relative), refusing absolute paths and paths that leave base. */
    private static Path inside(Path base, String relative, String what) throws BadRequest {
        if (relative.startsWith("/")) throw new BadRequest(what + " '" + relative + "' must be relative");
        Path p = base.resolve(relative).normalize();
        if (!p.startsWith(base)) throw new BadRequest(what + " '" + relative + "' leaves the input root");
        return p;
    }

    /**
     * Creates dir and its missing parents below root, refusing to pass through a symlink: the
     * input tree is the client's, and a link in it must not make the server create directories
     * elsewhere on the host.
     */
    private static void makeDirectories(Path root, Path dir, String what) throws IOException, BadRequest {
        Path at = root;
        for (Path name : root.relativize(dir)) {
            if (name.toString().isEmpty()) continue;
            at = at.resolve(name);
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(at, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                Files.createDirectory(at);
                continue;
            }
            if (a.isSymbolicLink()) throw new BadRequest(what + " passes through the input symlink '" + root.relativize(at) + "'");
            if (!a.isDirectory()) throw new BadRequest(what + " needs '" + root.relativize(at) + "' to be a directory, but it is a file");
        }
    }

    /**
     * The output at path, if every directory on the way to it is a real directory inside the
     * input root; empty otherwise. Symlinks made by the action are reported as symlinks, never
     * followed: the server must not read or store host files through them.
     */
    private static Optional<Path> outputBeneath(Path workingDirectory, String path) throws BadRequest {
        Path p = inside(workingDirectory, path, "output path");
        Path at = workingDirectory;
        for (Path name : workingDirectory.relativize(p.getParent() == null ? p : p.getParent())) {
            if (name.toString().isEmpty()) continue;
            at = at.resolve(name);
            if (!Files.isDirectory(at, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
        }
        return Optional.of(p);
    }

    private static List<String> outputPaths(Command cmd) {
        if (cmd.getOutputPathsCount() > 0) return cmd.getOutputPathsList();
        return Stream.concat(cmd.getOutputFilesList().stream(), cmd.getOutputDirectoriesList().stream()).toList();
    }

    private enum Expected { FILE, DIRECTORY, ANY }

    /**
     * Outputs as the Command asked for them: output_paths (API 2.1 and later) reports symlinks in
     * output_symlinks; output_files and output_directories (2.0) in output_file_symlinks and
     * output_directory_symlinks. Outputs the action did not make are left out.
     */
    private void collectOutputs(Command cmd, Path workingDirectory, ActionResult.Builder result, BlobStore.Pin pin)
            throws IOException, BadRequest {
        if (cmd.getOutputPathsCount() > 0) {
            for (String p : cmd.getOutputPathsList()) collect(p, Expected.ANY, workingDirectory, result, pin);
            return;
        }
        for (String p : cmd.getOutputFilesList()) collect(p, Expected.FILE, workingDirectory, result, pin);
        for (String p : cmd.getOutputDirectoriesList()) collect(p, Expected.DIRECTORY, workingDirectory, result, pin);
    }

    private void collect(String path, Expected expected, Path workingDirectory, ActionResult.Builder result,
                         BlobStore.Pin pin) throws IOException, BadRequest {
        Optional<Path> beneath = outputBeneath(workingDirectory, path);
        if (beneath.isEmpty()) return; // behind a symlink or a file: not an output the action made in place
        Path p = beneath.get();
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if (attrs.isSymbolicLink()) {
            OutputSymlink link = OutputSymlink.newBuilder().setPath(path).setTarget(Files.readSymbolicLink(p).toString()).build();
            switch (expected) {
                case ANY -> result.addOutputSymlinks(link);
                case FILE -> result.addOutputFileSymlinks(link);
                case DIRECTORY -> result.addOutputDirectorySymlinks(link);
            }
        } else if (attrs.isRegularFile()) {
            Digest d = store.ingest(p);
            pin.add(d);
            result.addOutputFiles(OutputFile.newBuilder().setPath(path).setDigest(d)
                    .setIsExecutable(isExecutable((PosixFileAttributes) attrs)));
        } else if (attrs.isDirectory()) {
            Map<Digest, Directory> children = new LinkedHashMap<>();
            Directory top = directory(p, children, pin);
            Digest treeDigest = store.put(Tree.newBuilder().setRoot(top).addAllChildren(children.values()).build());
            pin.add(treeDigest);
            result.addOutputDirectories(OutputDirectory.newBuilder().setPath(path).setTreeDigest(treeDigest));
        }
    }

    /** The Directory message for dir, storing its files; every distinct subdirectory goes into children. */
    private Directory directory(Path dir, Map<Digest, Directory> children, BlobStore.Pin pin) throws IOException {
        Map<String, Path> entries = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            list.forEach(e -> entries.put(e.getFileName().toString(), e));
        }
        Directory.Builder out = Directory.newBuilder();
        for (Map.Entry<String, Path> e : entries.entrySet()) {
            PosixFileAttributes a = Files.readAttributes(e.getValue(), PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink()) {
                out.addSymlinks(SymlinkNode.newBuilder().setName(e.getKey())
                        .setTarget(Files.readSymbolicLink(e.getValue()).toString()));
            } else if (a.isRegularFile()) {
                Digest d = store.ingest(e.getValue());
                pin.add(d);
                out.addFiles(FileNode.newBuilder().setName(e.getKey()).setDigest(d).setIsExecutable(isExecutable(a)));
            } else if (a.isDirectory()) {
                Directory child = directory(e.getValue(), children, pin);
                Digest d = Digests.of(child);
                children.putIfAbsent(d, child);
                out.addDirectories(DirectoryNode.newBuilder().setName(e.getKey()).setDigest(d));
            } // sockets, fifos and devices are not outputs
        }
        return out.build();
    }

    private static boolean isExecutable(PosixFileAttributes a) {
        return a.permissions().contains(PosixFilePermission.OWNER_EXECUTE);
    }

    private Digest ingestLog(Path file, BlobStore.Pin pin) throws IOException {
        if (!Files.exists(file)) return Digests.EMPTY;
        Digest d = store.ingest(file);
        pin.add(d);
        return d;
    }

    private static ExecuteResponse missing(List<Digest> digests) {
        PreconditionFailure.Builder failure = PreconditionFailure.newBuilder();
        for (Digest d : digests)
            failure.addViolations(PreconditionFailure.Violation.newBuilder().setType("MISSING")
                    .setSubject("blobs/" + Digests.format(d))
                    .setDescription("blob " + Digests.format(d) + " is not in the store; upload it and retry"));
        com.google.rpc.Status status = com.google.rpc.Status.newBuilder().setCode(Code.FAILED_PRECONDITION_VALUE)
                .setMessage(digests.size() + " blob(s) the action needs are missing").addDetails(Any.pack(failure.build())).build();
        return ExecuteResponse.newBuilder().setStatus(status).build();
    }

    private static Timestamp now() {
        return timestamp(Instant.now());
    }

    private static Timestamp timestamp(Instant i) {
        return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
    }
}
