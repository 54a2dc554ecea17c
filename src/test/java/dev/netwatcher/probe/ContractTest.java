package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.btf.Btf;
import dev.netwatcher.btf.ContractGen;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one kernel-user contract: the Java side (dev.netwatcher.contract) is generated from the
 * BTF of the objects the jar ships (ContractGen, run by Maven before compiling). The generated
 * sources are those of these objects, and every offset and size in them is what libbpf's view
 * of each object's BTF says, field by field.
 */
class ContractTest {
    private static final Path GENERATED = Path.of("target/generated-sources/contract");

    @Test
    void generatedSourcesAreTheShippedObjects() throws IOException {
        ContractGen gen = new ContractGen();
        for (Probe p : Probes.everyObject()) {
            gen.add(p.name() + ".bpf.o", Btf.parse(ContractGen.btfSection(ProbeLoader.objectBytes(p))));
        }
        Map<String, String> want = gen.render();
        assertFalse(want.isEmpty());
        Path dir = GENERATED.resolve(ContractGen.PACKAGE.replace('.', '/'));
        for (var e : want.entrySet()) {
            assertEquals(e.getValue(), Files.readString(dir.resolve(e.getKey() + ".java")),
                    e.getKey() + " is stale: run mvn generate-sources");
        }
        try (var files = Files.list(dir)) {
            assertEquals(want.size(), files.count(), "no generated class outlives its C type");
        }
    }

    @TestFactory
    List<DynamicTest> layoutsMatchEachObjectsBtf() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Probe p : Probes.everyObject()) {
            tests.add(DynamicTest.dynamicTest(p.name(), () -> {
                try (BpfObject obj = BpfObject.open(p.name(), ProbeLoader.objectBytes(p))) {
                    Btf btf = obj.btf();
                    int checked = 0;
                    for (Class<?> c : contractClasses()) {
                        String struct = struct(c);
                        if (struct == null || btf.structSize(struct).isEmpty()) continue;
                        assertEquals(btf.structSize(struct).get(), c.getField("SIZE").getInt(null), "sizeof(struct " + struct + ")");
                        for (Field f : c.getFields()) {
                            String name = f.getName();
                            if (name.equals("SIZE") || name.endsWith("_LEN")) continue;
                            Btf.Field cf = btf.field(struct, name.toLowerCase())
                                    .orElseThrow(() -> new AssertionError(struct + "." + name.toLowerCase() + " missing in C"));
                            assertEquals(cf.offset(), f.getInt(null), struct + "." + cf.path() + " offset");
                            checked++;
                        }
                    }
                    assertTrue(checked > 0, "the object exports a struct Java reads");
                    assertEquals(p.recordSize() > 0, true);
                    // struct nw_filter is written whole by Filter.toBytes() into .rodata
                    assertEquals(Filter.SIZE, btf.datasecVar(".rodata", "nw_filter").orElseThrow().size());
                    for (String prog : obj.programNames()) {
                        assertTrue(prog.startsWith("nw_") && prog.length() <= 15, "program name " + prog + " must be nw_*, <= 15 chars");
                    }
                }
            }));
        }
        return tests;
    }

    /**
     * The same offsets against a reader that is not ours: bpftool (libbpf's BTF parser) dumps each
     * shipped object's BTF, and every generated layout's size and member offsets must be what it
     * says. A field named X_LEN is an array length only where the struct has no member x_len
     * (struct drop_event has a member stack_len).
     */
    @Test
    void layoutsMatchWhatBpftoolReadsInTheObjects() throws Exception {
        java.util.regex.Pattern structLine = java.util.regex.Pattern.compile("^\\[\\d+\\] STRUCT '([^']+)' size=(\\d+) vlen=\\d+$");
        java.util.regex.Pattern memberLine = java.util.regex.Pattern.compile("^\\s+'([^']*)' type_id=\\d+ bits_offset=(\\d+)( bitfield_size=\\d+)?$");
        Map<String, Map<String, Integer>> structs = new java.util.HashMap<>();
        for (Path o : Files.list(Path.of("target/classes/bpf")).filter(f -> f.toString().endsWith(".bpf.o")).toList()) {
            Process p = new ProcessBuilder("bpftool", "btf", "dump", "file", o.toString(), "format", "raw").redirectErrorStream(true).start();
            String dump = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), dump);
            Map<String, Integer> current = null;
            for (String line : dump.split("\n")) {
                java.util.regex.Matcher sm = structLine.matcher(line), mm = memberLine.matcher(line);
                if (sm.matches()) {
                    current = new java.util.HashMap<>();
                    current.put("#size", Integer.parseInt(sm.group(2)));
                    structs.putIfAbsent(sm.group(1), current);
                } else if (mm.matches() && current != null) {
                    current.put(mm.group(1), Integer.parseInt(mm.group(2)) / 8);
                } else if (!line.startsWith("\t")) {
                    current = null;
                }
            }
        }
        int checked = 0;
        for (Class<?> c : contractClasses()) {
            String struct = struct(c);
            if (struct == null) continue;
            Map<String, Integer> members = structs.get(struct);
            assertTrue(members != null, "struct " + struct + " in the objects' BTF as bpftool reads it");
            assertEquals(members.get("#size"), c.getField("SIZE").getInt(null), "sizeof(struct " + struct + ")");
            for (Field f : c.getFields()) {
                String member = f.getName().toLowerCase();
                if (member.equals("size") || member.endsWith("_len") && !members.containsKey(member)) continue;
                assertTrue(members.containsKey(member), struct + "." + member + " as bpftool reads it");
                assertEquals(members.get(member), f.getInt(null), struct + "." + member + " offset");
                checked++;
            }
        }
        assertTrue(checked > 50, "fields checked: " + checked);
    }

    /** The generated struct classes: FooBarLayout is struct foo_bar. */
    private static List<Class<?>> contractClasses() throws Exception {
        List<Class<?>> out = new ArrayList<>();
        try (var files = Files.list(GENERATED.resolve(ContractGen.PACKAGE.replace('.', '/')))) {
            for (Path f : files.toList()) {
                String simple = f.getFileName().toString().replace(".java", "");
                out.add(Class.forName(ContractGen.PACKAGE + "." + simple));
            }
        }
        return out;
    }

    private static String struct(Class<?> c) {
        String n = c.getSimpleName();
        if (!n.endsWith("Layout") || !Modifier.isFinal(c.getModifiers())) return null;
        return n.substring(0, n.length() - "Layout".length()).replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase();
    }
}
