package dev.paddock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URL;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The library's module exports its API to everyone and its internals only to paddock's own modules. */
class ModuleExportsTest {
    @Test
    void onlyTheApiIsExported() throws IOException {
        ModuleDescriptor core = null;
        for (URL url : Collections.list(ClassLoader.getSystemClassLoader().getResources("module-info.class"))) {
            try (InputStream in = url.openStream()) {
                ModuleDescriptor d = ModuleDescriptor.read(in);
                if (d.name().equals("dev.paddock")) core = d;
            }
        }
        assertTrue(core != null, "no module-info.class of module dev.paddock on the class path");
        Map<String, Set<String>> exports = core.exports().stream()
                .collect(Collectors.toMap(ModuleDescriptor.Exports::source, ModuleDescriptor.Exports::targets));
        assertEquals(Map.of("dev.paddock", Set.of(),
                "dev.paddock.internal", Set.of("dev.paddock.remote", "dev.paddock.cli")), exports);
        assertTrue(core.opens().isEmpty(), "opens: " + core.opens());
        assertTrue(core.requires().stream().allMatch(r -> r.name().startsWith("java.")), "requires: " + core.requires());
    }
}
