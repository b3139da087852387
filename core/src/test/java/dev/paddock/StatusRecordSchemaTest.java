package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.paddock.internal.Json;
import dev.paddock.internal.Launcher;
import dev.paddock.internal.NativeBinaries;
import dev.paddock.internal.StatusRecord;
import dev.paddock.internal.StatusRecord.Field;
import dev.paddock.testing.HostTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status records' one definition ({@link StatusRecord}) against the two other places that
 * name their fields: the records the launcher really writes, and docs/launcher.md's table.
 */
class StatusRecordSchemaTest {
    @TempDir
    Path dir;

    /** Runs the launcher with the status records on stderr and returns them, parsed. */
    private static List<Map<String, Object>> records(List<String> command) throws Exception {
        List<String> argv = new ArrayList<>(command);
        int at = argv.indexOf("LAUNCHER");
        argv.set(at, NativeBinaries.path(NativeBinaries.LAUNCHER).toString());
        argv.addAll(at + 1, List.of(Launcher.STATUS_FD_OPTION, "2"));
        Process p = new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().close();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        List<Map<String, Object>> out = err.lines().filter(l -> l.startsWith("{")).map(Json::parseObject).toList();
        assertTrue(!out.isEmpty(), "no records from " + argv + ": " + err);
        return out;
    }

    @Test
    void theLaunchersRecordsCarryExactlyTheDefinedFields() throws Exception {
        String max = Files.readString(Path.of("/proc/sys/user/max_user_namespaces")).trim();
        assumeTrue(!max.equals("0"), "the kernel allows no user namespaces (user.max_user_namespaces=0)");
        HostTools.require("strace", "strace");
        Path layer = Files.createDirectories(dir.resolve("layer"));
        List<String> sandbox = List.of("--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                "--overlay-src", layer.toString(), "--tmp-overlay", "/mnt");
        List<List<String>> runs = new ArrayList<>();
        runs.add(List.of("LAUNCHER", "--", "true"));
        runs.add(List.of("LAUNCHER", "--", "sh", "-c", "kill -TERM $$"));
        runs.add(List.of("LAUNCHER", "--", "paddock-no-such-command"));
        runs.add(List.of("LAUNCHER", "--chdir", dir.resolve("missing").toString(), "--", "true"));
        runs.add(List.of("LAUNCHER", "--no-such-option", "--", "true"));
        List<String> bindOverlay = new ArrayList<>(List.of("LAUNCHER", "--overlay-impl", "bind"));
        bindOverlay.addAll(sandbox);
        bindOverlay.addAll(List.of("--", "true"));
        runs.add(bindOverlay);
        // The kernel overlay refused on purpose: the fallback writes a degraded record.
        List<String> refused = new ArrayList<>(List.of("strace", "-f", "-qq", "-o", "/dev/null", "-P", "overlay",
                "-e", "trace=mount", "-e", "inject=mount:error=EINVAL", "LAUNCHER"));
        refused.addAll(sandbox);
        refused.addAll(List.of("--", "true"));
        runs.add(refused);

        Map<StatusRecord, Integer> seen = new EnumMap<>(StatusRecord.class);
        for (List<String> run : runs) {
            for (Map<String, Object> record : records(run)) {
                StatusRecord type = StatusRecord.of(record)
                        .orElseThrow(() -> new AssertionError("a record of no defined type: " + record));
                Set<String> keys = new TreeSet<>(record.keySet());
                keys.remove(Field.TYPE.key());
                Set<String> always = keys(type.always());
                Set<String> allowed = new HashSet<>(always);
                allowed.addAll(keys(type.sometimes()));
                assertTrue(keys.containsAll(always), type.type() + " lacks " + diff(always, keys) + ": " + record);
                assertTrue(allowed.containsAll(keys), type.type() + " has undefined " + diff(keys, allowed) + ": "
                        + record);
                if (type == StatusRecord.EXITED) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> rusage = (Map<String, Object>) Field.RUSAGE.in(record);
                    assertEquals(Arrays.stream(StatusRecord.Usage.values()).map(StatusRecord.Usage::key)
                            .collect(Collectors.toCollection(TreeSet::new)), new TreeSet<>(rusage.keySet()));
                }
                seen.merge(type, 1, Integer::sum);
            }
        }
        assertEquals(Set.of(StatusRecord.values()), seen.keySet(), "every record type was written");
    }

    @Test
    void theDocsTableListsTheDefinedFields() throws IOException {
        Path docs = launcherDocs();
        // | `type` | `a`, `b` | `c` (when ...) |
        Pattern row = Pattern.compile("^\\| `([a-z-]+)` \\|([^|]*)\\|([^|]*)\\|$");
        Map<String, List<Set<String>>> table = new java.util.TreeMap<>();
        boolean inSection = false;
        for (String line : Files.readAllLines(docs)) {
            if (line.startsWith("#")) inSection = line.equals("### Record fields");
            Matcher m = row.matcher(line);
            if (inSection && m.matches()) table.put(m.group(1), List.of(names(m.group(2)), names(m.group(3))));
        }
        Map<String, List<Set<String>>> defined = new java.util.TreeMap<>();
        for (StatusRecord r : StatusRecord.values()) {
            defined.put(r.type(), List.of(keys(r.always()), keys(r.sometimes())));
        }
        assertEquals(defined, table, "docs/launcher.md's Record fields table");
    }

    /** The back-quoted words of a table cell, leaving out an explanation in parentheses. */
    private static Set<String> names(String cell) {
        Set<String> out = new TreeSet<>();
        Matcher m = Pattern.compile("`([a-z_]+)`").matcher(cell.replaceAll("\\([^)]*\\)", ""));
        while (m.find()) out.add(m.group(1));
        return out;
    }

    private static Set<String> keys(Set<Field> fields) {
        return fields.stream().map(Field::key).collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> diff(Set<String> a, Set<String> b) {
        Set<String> d = new TreeSet<>(a);
        d.removeAll(b);
        return d;
    }

    /** docs/launcher.md of the checkout (or of the staged copy the unprivileged pass runs in). */
    private static Path launcherDocs() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path docs = d.resolve("docs/launcher.md");
            if (Files.isReadable(docs)) return docs;
        }
        throw new AssertionError("docs/launcher.md not found in " + Path.of("").toAbsolutePath() + " or above");
    }
}
