package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.btf.Btf;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one kernel-user contract: every offset and size a Java decoder reads must
 * be what clang laid out for the C struct, as the compiled object's BTF records it.
 */
class StructLayoutTest {
    @TestFactory
    List<DynamicTest> javaViewMatchesCStructs() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Probe p : Probes.all()) {
            tests.add(DynamicTest.dynamicTest(p.name(), () -> {
                try (BpfObject obj = BpfObject.open(p.name(), Session.objectBytes(p))) {
                    Btf btf = obj.btf();
                    for (StructSpec spec : p.layouts()) {
                        assertEquals(spec.size(), btf.structSize(spec.struct()).orElseThrow(
                                () -> new AssertionError("struct " + spec.struct() + " not in " + p.name() + ".bpf.o BTF")),
                                "sizeof(struct " + spec.struct() + ")");
                        for (StructSpec.FieldSpec f : spec.fields()) {
                            Btf.Field c = btf.field(spec.struct(), f.path())
                                    .orElseThrow(() -> new AssertionError(spec.struct() + "." + f.path() + " missing in C"));
                            assertEquals(f.offset(), c.offset(), spec.struct() + "." + f.path() + " offset");
                            assertEquals(f.size(), c.size(), spec.struct() + "." + f.path() + " size");
                        }
                    }
                    // struct nw_filter, written by Filter.toBytes() into .rodata
                    assertEquals(Filter.SIZE, btf.structSize("nw_filter").orElseThrow());
                    assertEquals(Filter.SIZE, btf.datasecVar(".rodata", "nw_filter").orElseThrow().size());
                    String[][] filterFields = {{"netns", "0"}, {"sport", "4"}, {"dport", "6"}, {"saddr_family", "8"},
                            {"saddr_prefix", "9"}, {"daddr_family", "10"}, {"daddr_prefix", "11"}, {"saddr", "12"}, {"daddr", "28"}};
                    for (String[] ff : filterFields) {
                        assertEquals(Integer.parseInt(ff[1]), btf.field("nw_filter", ff[0]).orElseThrow().offset(), "nw_filter." + ff[0]);
                    }
                    for (String prog : obj.programNames()) {
                        assertTrue(prog.startsWith("nw_") && prog.length() <= 15, "program name " + prog + " must be nw_*, <= 15 chars");
                    }
                }
            }));
        }
        return tests;
    }
}
