package dev.netwatcher.bpf;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What libbpf 1.1 warns when the verifier refuses a program (the refusal seen on 6.18.44-fc-v1272), read back. */
class LoadFailureTest {
    private static final String REFUSED = """
            prog 'nw_own_seed': BPF program load failed: Permission denied
            prog 'nw_own_seed': -- BEGIN PROG LOAD LOG --
            0: R1=ctx() R10=fp0
            ; struct nw_owner *o = bpf_sk_storage_get(&nw_owners, sock->sk, 0, BPF_SK_STORAGE_GET_F_CREATE); @ owner.bpf.c:91
            9: (79) r2 = *(u64 *)(r0 +24)         ; R0=ptr_socket() R2=untrusted_ptr_sock()
            R2 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_
            processed 12 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1
            -- END PROG LOAD LOG --
            prog 'nw_own_seed': failed to load: -13
            failed to load object 'owner'
            """;

    @Test
    void namesTheRefusedProgramAndTheVerifiersReason() {
        LoadFailure f = LoadFailure.of("owner", 13, REFUSED);
        assertEquals("nw_own_seed", f.program());
        assertEquals("R2 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_", f.reason());
        assertEquals(REFUSED, f.log());
        assertEquals(13, f.errno());
        assertTrue(f.getMessage().startsWith("loading BPF object 'owner' failed: Permission denied (program nw_own_seed: R2 type="),
                f.getMessage());
        assertTrue(!f.getMessage().contains("\n"), "one line");
    }

    @Test
    void aFailureBeforeAnyProgramNamesNone() {
        LoadFailure f = LoadFailure.of("packet", 22, "failed to load object 'packet'\n");
        assertNull(f.program());
        assertNull(f.reason());
        assertEquals("loading BPF object 'packet' failed: Invalid argument (--debug shows the verifier log)", f.getMessage());
    }

    @Test
    void aProgramLibbpfCouldNotPrepareIsNamedWithLibbpfsReason() {
        LoadFailure f = LoadFailure.of("drop", 3, """
                prog 'nw_drop_f1': failed to find kernel BTF type ID of 'kfree_skb_reason': -3
                prog 'nw_drop_f1': failed to prepare load attributes: -3
                prog 'nw_drop_f1': failed to load: -3
                failed to load object 'drop'
                """);
        assertEquals("nw_drop_f1", f.program());
        assertEquals("prog 'nw_drop_f1': failed to prepare load attributes: -3", f.reason());
    }
}
