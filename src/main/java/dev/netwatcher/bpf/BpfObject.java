package dev.netwatcher.bpf;

import dev.netwatcher.btf.Btf;
import dev.netwatcher.contract.BpfAttachType;
import dev.netwatcher.contract.BpfProgType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A BPF ELF object opened from memory (bpf_object__open_mem), its programs and maps.
 * Lifecycle: open → configure (autoload, globals) → load → attach → close. close()
 * destroys every link attached through this object first, then the object.
 */
public final class BpfObject implements AutoCloseable {
    private final String name;
    private final byte[] elf;
    private MemorySegment obj;
    private final Map<String, MemorySegment> programs = new LinkedHashMap<>();
    private final Map<String, MemorySegment> maps = new LinkedHashMap<>();
    private final List<BpfLink> links = new ArrayList<>();
    private boolean loaded;
    private Btf btf;

    private BpfObject(String name, byte[] elf, MemorySegment obj) {
        this.name = name;
        this.elf = elf;
        this.obj = obj;
        Native.run(() -> {
            for (MemorySegment p = next(Libbpf.OBJECT_NEXT_PROGRAM, MemorySegment.NULL); !p.equals(MemorySegment.NULL);
                 p = next(Libbpf.OBJECT_NEXT_PROGRAM, p)) {
                programs.put(Libbpf.string((MemorySegment) Libbpf.PROGRAM_NAME.invokeExact(p)), p);
            }
            for (MemorySegment m = next(Libbpf.OBJECT_NEXT_MAP, MemorySegment.NULL); !m.equals(MemorySegment.NULL);
                 m = next(Libbpf.OBJECT_NEXT_MAP, m)) {
                maps.put(Libbpf.string((MemorySegment) Libbpf.MAP_NAME.invokeExact(m)), m);
            }
        });
    }

    private MemorySegment next(java.lang.invoke.MethodHandle h, MemorySegment prev) throws Throwable {
        return (MemorySegment) h.invokeExact(obj, prev);
    }

    /** Makes the libbpf downcall handles now (start-up does it on a spare CPU while options are parsed). */
    public static void prepare() {
        Libbpf.possibleCpus();
    }

    /**
     * Gives the memory libbpf freed after its loads back to the kernel (glibc's malloc_trim): each
     * load parses the kernel's BTF anew, and the freed pages stay in the loading threads' malloc
     * arenas otherwise. A no-op where the C library has no malloc_trim.
     */
    public static void releaseFreedMemory() {
        java.lang.invoke.MethodHandle trim = Native.MallocTrim.HANDLE;
        if (trim == null) return; // not glibc: nothing to give back this way
        try {
            int ignored = (int) trim.invokeExact(0L);
        } catch (Throwable t) {
            // best effort
        }
    }

    /** libbpf's own messages (warnings, verifier logs) on stderr: off unless asked for (--debug). */
    public static void setLibbpfVerbose(boolean verbose) {
        LibbpfLog.setVerbose(verbose);
    }

    /** Opens an ELF object; {@code name} becomes the object name (and the prefix of its internal maps). */
    public static BpfObject open(String name, byte[] elf) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(elf.length, 8);
            MemorySegment.copy(elf, 0, buf, ValueLayout.JAVA_BYTE, 0, elf.length);
            // struct bpf_object_open_opts { size_t sz; const char *object_name; ... }: only the first two fields.
            MemorySegment opts = arena.allocate(16, 8);
            opts.set(JAVA_LONG, 0, 16);
            opts.set(ADDRESS, 8, arena.allocateFrom(name));
            MemorySegment capture = arena.allocate(Native.CAPTURE);
            MemorySegment obj = Native.call(() -> (MemorySegment) Libbpf.OBJECT_OPEN_MEM.invokeExact(capture, buf, (long) elf.length, opts));
            if (obj.equals(MemorySegment.NULL)) {
                int errno = Native.errno(capture);
                throw new BpfException("cannot open BPF object '" + name + "': " + Native.strerror(errno), errno);
            }
            return new BpfObject(name, elf, obj);
        }
    }

    public String name() {
        return name;
    }

    public List<String> programNames() {
        return List.copyOf(programs.keySet());
    }

    /** The ELF section of a program, e.g. "tp_btf/kfree_skb". */
    public String sectionName(String program) {
        return Libbpf.string(Native.call(() -> (MemorySegment) Libbpf.PROGRAM_SECTION_NAME.invokeExact(program(program))));
    }

    public void setAutoload(String program, boolean autoload) {
        checkNotLoaded();
        int rc = Native.callInt(() -> (int) Libbpf.PROGRAM_SET_AUTOLOAD.invokeExact(program(program), autoload));
        if (rc != 0) throw new BpfException("cannot set autoload of " + program + ": " + Native.strerror(-rc), -rc);
    }

    /**
     * Makes a program loadable as a netfilter program (BPF_PROG_TYPE_NETFILTER, attach type
     * BPF_NETFILTER): libbpf 1.1 does not know SEC("netfilter").
     */
    public void setNetfilterType(String program) {
        checkNotLoaded();
        int rc = Native.callInt(() -> (int) Libbpf.PROGRAM_SET_TYPE.invokeExact(program(program), BpfProgType.BPF_PROG_TYPE_NETFILTER));
        if (rc == 0) {
            rc = Native.callInt(() -> (int) Libbpf.PROGRAM_SET_EXPECTED_ATTACH_TYPE.invokeExact(program(program),
                    BpfAttachType.BPF_NETFILTER));
        }
        if (rc != 0) throw new BpfException("cannot set program type of " + program, -rc);
    }

    /** The object's own BTF (types of its events and globals), parsed. */
    public synchronized Btf btf() {
        if (btf == null) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment b = Native.call(() -> (MemorySegment) Libbpf.OBJECT_BTF.invokeExact(obj));
                if (b.equals(MemorySegment.NULL)) throw new BpfException("BPF object '" + name + "' has no BTF");
                MemorySegment size = arena.allocate(JAVA_INT);
                MemorySegment raw = Native.call(() -> (MemorySegment) Libbpf.BTF_RAW_DATA.invokeExact(b, size));
                int n = size.get(JAVA_INT, 0);
                btf = Btf.parse(ByteBuffer.wrap(raw.reinterpret(n).toArray(JAVA_BYTE)));
            }
        }
        return btf;
    }

    /**
     * Sets a {@code const volatile} global before load: the bytes go into the
     * object's .rodata image at the variable's offset (from the DATASEC in BTF).
     */
    /** True when the object has this .rodata variable (a const volatile global). */
    public boolean hasRodata(String variable) {
        return btf().datasecVar(".rodata", variable).isPresent();
    }

    public void setRodata(String variable, byte[] value) {
        checkNotLoaded();
        Btf.Var v = btf().datasecVar(".rodata", variable)
                .orElseThrow(() -> new BpfException("BPF object '" + name + "' has no .rodata variable " + variable));
        if (v.size() != value.length)
            throw new BpfException(variable + " is " + v.size() + " bytes in BPF, " + value.length + " given");
        MemorySegment map = maps.entrySet().stream().filter(e -> e.getKey().endsWith(".rodata"))
                .map(Map.Entry::getValue).findFirst()
                .orElseThrow(() -> new BpfException("BPF object '" + name + "' has no .rodata map"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment psize = arena.allocate(JAVA_LONG);
            MemorySegment data = Native.call(() -> (MemorySegment) Libbpf.MAP_INITIAL_VALUE.invokeExact(map, psize));
            long size = psize.get(JAVA_LONG, 0);
            if (data.equals(MemorySegment.NULL) || v.offset() + value.length > size)
                throw new BpfException("cannot write .rodata of '" + name + "'");
            MemorySegment.copy(value, 0, data.reinterpret(size), JAVA_BYTE, v.offset(), value.length);
        }
    }

    /** Makes the object's map use an existing one (bpf_map__reuse_fd): several objects then share it. */
    public void reuseMap(String map, BpfMap existing) {
        checkNotLoaded();
        int rc = Native.callInt(() -> (int) Libbpf.MAP_REUSE_FD.invokeExact(mapPtr(map), existing.fd()));
        if (rc != 0) throw new BpfException("cannot share map " + existing.name() + " with " + name + ": " + Native.strerror(-rc), -rc);
    }

    /** Loads every program set to autoload; a refusal is a {@link LoadFailure} (see {@link #load(boolean)}). */
    public void load() {
        load(false);
    }

    /**
     * Loads every program set to autoload. A refusal is a {@link LoadFailure}; with diagnose, it
     * names the program libbpf stopped at and the verifier's reason (libbpf's warnings are kept
     * for this thread meanwhile); without, it names none, and loading a fresh copy of the object
     * with diagnose tells (the cheap way for the common case, where nothing is refused).
     */
    public void load(boolean diagnose) {
        checkNotLoaded();
        int[] rc = new int[1];
        Runnable call = () -> rc[0] = Native.callInt(() -> (int) Libbpf.OBJECT_LOAD.invokeExact(obj));
        String warnings = "";
        if (diagnose) warnings = LibbpfLog.capture(call);
        else call.run();
        if (rc[0] != 0) throw LoadFailure.of(name, -rc[0], warnings);
        loaded = true;
    }

    /** Attaches by section name (tp/, raw_tp/, tp_btf/, ...). The link is fd-owned: process death detaches it. */
    public BpfLink attach(String program) {
        checkLoaded();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(Native.CAPTURE);
            MemorySegment link = Native.call(() -> (MemorySegment) Libbpf.PROGRAM_ATTACH.invokeExact(capture, program(program)));
            if (link.equals(MemorySegment.NULL)) {
                int errno = Native.errno(capture);
                throw new BpfException("cannot attach " + program + " (" + sectionName(program) + "): "
                        + Native.strerror(errno), errno);
            }
            return remember(BpfLink.ofLibbpf(program, link));
        }
    }

    /** A tp/ program on another tracepoint than its section names ("syscalls/sys_enter_sendmsg"); fd-owned. */
    public BpfLink attachTracepoint(String program, String categoryAndName) {
        checkLoaded();
        int slash = categoryAndName.indexOf('/');
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(Native.CAPTURE);
            MemorySegment category = arena.allocateFrom(categoryAndName.substring(0, slash));
            MemorySegment name = arena.allocateFrom(categoryAndName.substring(slash + 1));
            MemorySegment link = Native.call(() -> (MemorySegment) Libbpf.PROGRAM_ATTACH_TRACEPOINT.invokeExact(capture,
                    program(program), category, name));
            if (link.equals(MemorySegment.NULL)) {
                int errno = Native.errno(capture);
                throw new BpfException("cannot attach " + program + " to tracepoint " + categoryAndName + ": " + Native.strerror(errno), errno);
            }
            return remember(BpfLink.ofLibbpf(program + "@" + categoryAndName, link));
        }
    }

    /** cgroup_skb and friends, attached to the cgroup directory (fd-owned link). */
    public BpfLink attachCgroup(String program, Path cgroupDir) {
        checkLoaded();
        try (Fd dir = Fd.openDirectory(cgroupDir); Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(Native.CAPTURE);
            MemorySegment link = Native.call(() -> (MemorySegment) Libbpf.PROGRAM_ATTACH_CGROUP.invokeExact(capture,
                    program(program), dir.fd()));
            if (link.equals(MemorySegment.NULL)) {
                int errno = Native.errno(capture);
                throw new BpfException("cannot attach " + program + " to cgroup " + cgroupDir + ": " + Native.strerror(errno), errno);
            }
            return remember(BpfLink.ofLibbpf(program, link));
        }
    }

    /** A netfilter hook through bpf(BPF_LINK_CREATE) in the caller's network namespace (fd-owned). */
    public BpfLink attachNetfilter(String program, NetfilterHook hook) {
        checkLoaded();
        return remember(LinkCreate.netfilter(program, programFd(program), hook));
    }

    /** tcx (kernel >= 6.6) ingress/egress of a device: fd-owned, unlike legacy TC filters. */
    public BpfLink attachTcx(String program, int ifindex, boolean ingress) {
        checkLoaded();
        return remember(LinkCreate.tcx(program, programFd(program), ifindex, ingress));
    }

    public BpfMap map(String mapName) {
        checkLoaded();
        MemorySegment m = mapPtr(mapName);
        return Native.call(() -> new BpfMap(mapName, (int) Libbpf.MAP_FD.invokeExact(m), (int) Libbpf.MAP_TYPE.invokeExact(m),
                (int) Libbpf.MAP_KEY_SIZE.invokeExact(m), (int) Libbpf.MAP_VALUE_SIZE.invokeExact(m),
                (int) Libbpf.MAP_MAX_ENTRIES.invokeExact(m)));
    }

    /**
     * Run count, run time and recursion misses of each loaded program (struct
     * bpf_prog_info through bpf_obj_get_info_by_fd). The kernel counts runs and
     * time only while run-time stats are on ({@link ProgramStats#enableRunTime()});
     * recursion misses are always counted.
     */
    public List<ProgramStats> programStats() {
        checkLoaded();
        List<ProgramStats> out = new ArrayList<>();
        for (String p : programs.keySet()) {
            MemorySegment prog = programs.get(p);
            int fd = Native.callInt(() -> (int) Libbpf.PROGRAM_FD.invokeExact(prog));
            if (fd >= 0) out.add(ProgramStats.of(p, fd));
        }
        return out;
    }

    /*
     * struct bpf_test_run_opts (libbpf's bpf.h, x86-64): sz at 0, flags at 68, cpu at 72, 80 bytes
     * (libbpf's own struct, sized by its sz field; not in the kernel's BTF).
     */
    private static final long TEST_RUN_OPTS_SIZE = 80, TEST_RUN_FLAGS = 68, TEST_RUN_CPU = 72;
    private static final int BPF_F_TEST_RUN_ON_CPU = 1;
    private static final int ENXIO = 6;

    /**
     * Runs a loaded, unattached raw_tp program once on every possible CPU (BPF_PROG_TEST_RUN with
     * BPF_F_TEST_RUN_ON_CPU: the kernel runs it there from an IPI, bpf_prog_test_run_raw_tp()).
     * An offline CPU is skipped.
     */
    public void runOnEachCpu(String program) {
        int fd = programFd(program);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment opts = a.allocate(TEST_RUN_OPTS_SIZE, 8);
            for (int cpu = 0; cpu < Libbpf.possibleCpus(); cpu++) {
                opts.fill((byte) 0);
                opts.set(JAVA_LONG, 0, TEST_RUN_OPTS_SIZE);
                opts.set(JAVA_INT, TEST_RUN_FLAGS, BPF_F_TEST_RUN_ON_CPU);
                opts.set(JAVA_INT, TEST_RUN_CPU, cpu);
                int rc = Native.callInt(() -> (int) Libbpf.PROG_TEST_RUN_OPTS.invokeExact(fd, opts));
                if (rc < 0 && rc != -ENXIO) throw new BpfException("running " + program + " on CPU " + cpu + " failed", -rc);
            }
        }
    }

    /**
     * Runs a loaded, unattached program once on a packet (BPF_PROG_TEST_RUN with data_in: for
     * tc programs an Ethernet frame) and returns its return value.
     */
    public int runOnPacket(String program, byte[] packet) {
        int fd = programFd(program);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment data = a.allocate(Math.max(packet.length, 1), 8);
            MemorySegment.copy(packet, 0, data, JAVA_BYTE, 0, packet.length);
            // struct bpf_test_run_opts: data_in at 8, data_size_in at 24, retval at 56, repeat at 60
            MemorySegment opts = a.allocate(TEST_RUN_OPTS_SIZE, 8);
            opts.set(JAVA_LONG, 0, TEST_RUN_OPTS_SIZE);
            opts.set(ADDRESS, 8, data);
            opts.set(JAVA_INT, 24, packet.length);
            opts.set(JAVA_INT, 60, 1);
            int rc = Native.callInt(() -> (int) Libbpf.PROG_TEST_RUN_OPTS.invokeExact(fd, opts));
            if (rc < 0) throw new BpfException("running " + program + " on a packet failed: " + Native.strerror(-rc), -rc);
            return opts.get(JAVA_INT, 56);
        }
    }

    int programFd(String program) {
        int fd = Native.callInt(() -> (int) Libbpf.PROGRAM_FD.invokeExact(program(program)));
        if (fd < 0) throw new BpfException("program " + program + " is not loaded");
        return fd;
    }

    /** The first link of program made by this object, if any. */
    public synchronized Optional<BpfLink> link(String program) {
        return links.stream().filter(l -> l.program().equals(program)).findFirst();
    }

    /** Detaches one link of this object now (a netfilter link of a network namespace that is gone). */
    public synchronized void detach(BpfLink link) {
        link.close();
        links.remove(link);
    }

    private synchronized BpfLink remember(BpfLink link) {
        links.add(link);
        return link;
    }

    private MemorySegment program(String program) {
        MemorySegment p = programs.get(program);
        if (p == null) throw new BpfException("BPF object '" + name + "' has no program " + program);
        return p;
    }

    private MemorySegment mapPtr(String map) {
        MemorySegment m = maps.get(map);
        if (m == null) throw new BpfException("BPF object '" + name + "' has no map " + map);
        return m;
    }

    private void checkNotLoaded() {
        if (obj == null) throw new IllegalStateException("closed");
        if (loaded) throw new IllegalStateException("already loaded");
    }

    private void checkLoaded() {
        if (obj == null || !loaded) throw new IllegalStateException("BPF object '" + name + "' not loaded");
    }

    /** Detaches every link of this object, then frees programs and maps. Idempotent. */
    @Override
    public synchronized void close() {
        for (int i = links.size() - 1; i >= 0; i--) links.get(i).close();
        links.clear();
        if (obj != null) {
            MemorySegment o = obj;
            obj = null;
            Native.run(() -> {
                Libbpf.OBJECT_CLOSE.invokeExact(o);
            });
        }
    }
}
