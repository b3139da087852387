package dev.paddock.cli;

import dev.paddock.Paddock;
import dev.paddock.internal.HostProbes;
import dev.paddock.internal.Json;
import dev.paddock.internal.Terminal;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "doctor",
        mixinStandardHelpOptions = true,
        description = {
            "Probe what this host lets paddock do: each capability is tried in a",
            "throwaway process and reported ok, degraded or unavailable, with the cause,",
            "the evidence (the call and errno, the sysctl or file read), the remedy,",
            "and the paddock features that depend on it.",
        },
        footer = {"", "Exit status: 0 when everything the sandbox needs works (perhaps degraded), 1 otherwise.",
                  "The JSON's sandbox_auto says what --sandbox=auto does here: sandbox, landlock or",
                  "unavailable. docs/diagnostics.md lists every known cause and its remedy.",
                  "", "Examples:", "  paddock doctor", "  paddock doctor --json > host.json"})
final class DoctorCommand implements Callable<Integer> {
    /** Without these the sandbox cannot run at all; the others cost a feature or a fallback. */
    static final List<String> REQUIRED = List.of("user-namespaces", "id-maps", "procfs", "tmpfs", "pid-net-namespaces");

    @Option(names = "--json", description = "Print the probes as one JSON object.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<HostProbes.Probe> probes;
        try (Paddock paddock = Paddock.create()) {
            probes = HostProbes.all(paddock);
        }
        boolean healthy = probes.stream()
                .noneMatch(p -> REQUIRED.contains(p.name()) && p.status() == HostProbes.Status.UNAVAILABLE);
        boolean landlock = probes.stream()
                .anyMatch(p -> p.name().equals("landlock") && p.status() != HostProbes.Status.UNAVAILABLE);
        // What --sandbox=auto does here: the full sandbox, the Landlock fallback, or nothing.
        String auto = healthy ? "sandbox" : landlock ? "landlock" : "unavailable";
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("healthy", healthy);
            root.put("sandbox_auto", auto);
            root.put("probes", probes.stream().map(HostProbes.Probe::toMap).toList());
            out.println(Json.write(root));
        } else {
            boolean colour = Terminal.isTerminal(1) && System.getenv("NO_COLOR") == null;
            for (HostProbes.Probe p : probes) {
                String status = p.status().name().toLowerCase(Locale.ROOT);
                String shown = !colour ? status : switch (p.status()) {
                    case OK -> "\u001b[32m" + status + "\u001b[0m";
                    case DEGRADED -> "\u001b[33m" + status + "\u001b[0m";
                    case UNAVAILABLE -> "\u001b[31m" + status + "\u001b[0m";
                };
                out.printf(Locale.ROOT, "%-20s %s%s%n", p.name(), shown,
                        " ".repeat(Math.max(1, 12 - status.length())) + p.evidence());
                if (!p.cause().isEmpty()) out.printf("%-20s   cause:  %s%n", "", p.cause());
                if (!p.remedy().isEmpty()) out.printf("%-20s   remedy: %s%n", "", p.remedy());
                if (p.status() != HostProbes.Status.OK)
                    out.printf("%-20s   needed by: %s%n", "", String.join(", ", p.features()));
            }
            out.println(healthy ? "paddock's sandbox works on this host."
                    : landlock ? "paddock's sandbox cannot run here (see the unavailable probes above); "
                            + "--sandbox=auto falls back to Landlock, --sandbox=required fails."
                    : "paddock's sandbox cannot run here, nor its Landlock fallback: see the unavailable probes above.");
        }
        out.flush();
        return healthy ? 0 : 1;
    }
}
