package dev.netwatcher.bpf;

import dev.netwatcher.btf.Btf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ProgramStats reads struct bpf_prog_info at fixed (uapi) offsets: the running kernel's BTF must agree. */
class BpfStatsTest {
    @Test
    void bpfProgInfoOffsetsMatchTheKernel() throws Exception {
        Btf k = Btf.kernel();
        assertEquals(ProgramStats.RUN_TIME_NS, k.field("bpf_prog_info", "run_time_ns").orElseThrow().offset());
        assertEquals(ProgramStats.RUN_CNT, k.field("bpf_prog_info", "run_cnt").orElseThrow().offset());
        assertEquals(ProgramStats.RECURSION_MISSES, k.field("bpf_prog_info", "recursion_misses").orElseThrow().offset());
        assertTrue(k.structSize("bpf_prog_info").orElseThrow() >= ProgramStats.INFO_SIZE);
    }
}
