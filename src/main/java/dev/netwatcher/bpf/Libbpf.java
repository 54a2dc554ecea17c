package dev.netwatcher.bpf;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The libbpf 1.1 functions netwatcher uses (see man libbpf, include/bpf/libbpf.h). */
final class Libbpf {
    private static final FunctionDescriptor PTR_PTR = FunctionDescriptor.of(ADDRESS, ADDRESS);
    private static final FunctionDescriptor INT_PTR = FunctionDescriptor.of(JAVA_INT, ADDRESS);

    static final MethodHandle OBJECT_OPEN_MEM = Native.bpfErrno("bpf_object__open_mem",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle OBJECT_LOAD = Native.bpf("bpf_object__load", INT_PTR);
    static final MethodHandle OBJECT_CLOSE = Native.bpf("bpf_object__close", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle OBJECT_NEXT_PROGRAM = Native.bpf("bpf_object__next_program",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle OBJECT_NEXT_MAP = Native.bpf("bpf_object__next_map",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle OBJECT_BTF = Native.bpf("bpf_object__btf", PTR_PTR);
    static final MethodHandle BTF_RAW_DATA = Native.bpf("btf__raw_data", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));

    static final MethodHandle PROGRAM_NAME = Native.bpf("bpf_program__name", PTR_PTR);
    static final MethodHandle PROGRAM_SECTION_NAME = Native.bpf("bpf_program__section_name", PTR_PTR);
    static final MethodHandle PROGRAM_SET_AUTOLOAD = Native.bpf("bpf_program__set_autoload",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BOOLEAN));
    static final MethodHandle PROGRAM_SET_TYPE = Native.bpf("bpf_program__set_type",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle PROGRAM_SET_EXPECTED_ATTACH_TYPE = Native.bpf("bpf_program__set_expected_attach_type",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle PROGRAM_FD = Native.bpf("bpf_program__fd", INT_PTR);
    static final MethodHandle PROGRAM_ATTACH = Native.bpfErrno("bpf_program__attach", PTR_PTR);
    static final MethodHandle PROGRAM_ATTACH_TRACEPOINT = Native.bpfErrno("bpf_program__attach_tracepoint",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle PROGRAM_ATTACH_CGROUP = Native.bpfErrno("bpf_program__attach_cgroup",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle LINK_DESTROY = Native.bpf("bpf_link__destroy", INT_PTR);
    static final MethodHandle LINK_FD = Native.bpf("bpf_link__fd", INT_PTR);
    static final MethodHandle ITER_CREATE = Native.bpf("bpf_iter_create", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    static final MethodHandle MAP_NAME = Native.bpf("bpf_map__name", PTR_PTR);
    static final MethodHandle MAP_FD = Native.bpf("bpf_map__fd", INT_PTR);
    static final MethodHandle MAP_MAX_ENTRIES = Native.bpf("bpf_map__max_entries", INT_PTR);
    static final MethodHandle MAP_REUSE_FD = Native.bpf("bpf_map__reuse_fd",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    /** int bpf_map_create(type, name, key_size, value_size, max_entries, opts): an fd, or -errno. */
    static final MethodHandle MAP_CREATE = Native.bpf("bpf_map_create",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle MAP_KEY_SIZE = Native.bpf("bpf_map__key_size", INT_PTR);
    static final MethodHandle MAP_VALUE_SIZE = Native.bpf("bpf_map__value_size", INT_PTR);
    static final MethodHandle MAP_TYPE = Native.bpf("bpf_map__type", INT_PTR);
    static final MethodHandle MAP_INITIAL_VALUE = Native.bpf("bpf_map__initial_value",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle MAP_LOOKUP_ELEM = Native.bpf("bpf_map_lookup_elem",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle MAP_UPDATE_ELEM = Native.bpf("bpf_map_update_elem",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle MAP_GET_NEXT_KEY = Native.bpf("bpf_map_get_next_key",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle OBJ_GET_INFO_BY_FD = Native.bpf("bpf_obj_get_info_by_fd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle ENABLE_STATS = Native.bpf("bpf_enable_stats", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    static final MethodHandle PROG_TEST_RUN_OPTS = Native.bpf("bpf_prog_test_run_opts",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle NUM_POSSIBLE_CPUS = Native.bpf("libbpf_num_possible_cpus", FunctionDescriptor.of(JAVA_INT));
    static final MethodHandle SET_PRINT = Native.bpf("libbpf_set_print", PTR_PTR);

    private Libbpf() {}

    static int possibleCpus() {
        int n = Native.callInt(() -> (int) NUM_POSSIBLE_CPUS.invokeExact());
        if (n <= 0) throw new BpfException("cannot read the number of possible CPUs", -n);
        return n;
    }

    static String string(MemorySegment cstr) {
        return cstr.equals(MemorySegment.NULL) ? null : cstr.reinterpret(4096).getString(0);
    }
}
