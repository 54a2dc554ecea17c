package dev.netwatcher.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A loaded BPF map, read from user space through its fd. Keys and values are raw little-endian
 * bytes. A map of an object lives as long as the object; one made by {@link #createRingBuffer}
 * is ours to close.
 */
public final class BpfMap implements AutoCloseable {
    static final int TYPE_PERCPU_HASH = 5, TYPE_PERCPU_ARRAY = 6, TYPE_LRU_PERCPU_HASH = 10, TYPE_RINGBUF = 27;

    private final String name;
    private final int fd, type, keySize, valueSize, maxEntries;

    BpfMap(String name, int fd, int type, int keySize, int valueSize, int maxEntries) {
        this.name = name;
        this.fd = fd;
        this.type = type;
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.maxEntries = maxEntries;
    }

    private boolean owned;

    /** A BPF_MAP_TYPE_RINGBUF of this many bytes (a power of 2, at least a page), not tied to any object. */
    public static BpfMap createRingBuffer(String name, int bytes) {
        try (Arena arena = Arena.ofConfined()) {
            int fd = Native.callInt(() -> (int) Libbpf.MAP_CREATE.invokeExact(TYPE_RINGBUF, arena.allocateFrom(name), 0, 0, bytes, MemorySegment.NULL));
            if (fd < 0) throw new BpfException("cannot create ring buffer " + name + ": " + Native.strerror(-fd), -fd);
            BpfMap m = new BpfMap(name, fd, TYPE_RINGBUF, 0, 0, bytes);
            m.owned = true;
            return m;
        }
    }

    /** Closes the fd of a map made by createRingBuffer (the kernel frees it with its last user). */
    @Override
    public void close() {
        if (owned) {
            owned = false;
            Native.callInt(() -> (int) Native.Libc.CLOSE.invokeExact(fd));
        }
    }

    public String name() { return name; }
    public int maxEntries() { return maxEntries; }
    int fd() { return fd; }
    int type() { return type; }

    private boolean perCpu() {
        return type == TYPE_PERCPU_HASH || type == TYPE_PERCPU_ARRAY || type == TYPE_LRU_PERCPU_HASH;
    }

    /** Bytes a lookup returns: for per-CPU maps, one 8-byte-aligned slot per possible CPU. */
    private int lookupSize() {
        return perCpu() ? ((valueSize + 7) & ~7) * Libbpf.possibleCpus() : valueSize;
    }

    /** The value for a key, as a little-endian buffer (per-CPU maps: all CPUs' slots back to back). */
    public Optional<ByteBuffer> lookup(byte[] key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(keySize, 8);
            MemorySegment.copy(key, 0, k, JAVA_BYTE, 0, keySize);
            MemorySegment v = arena.allocate(lookupSize(), 8);
            int rc = Native.callInt(() -> (int) Libbpf.MAP_LOOKUP_ELEM.invokeExact(fd, k, v));
            if (rc == -2) return Optional.empty(); // -ENOENT
            if (rc != 0) throw new BpfException("lookup in map " + name + " failed: " + Native.strerror(-rc), -rc);
            return Optional.of(Buffers.direct(v.toArray(JAVA_BYTE)));
        }
    }

    /** Sum over CPUs of the u64 stored at {@code key} of a per-CPU array of u64. */
    public long sumPerCpu(int key) {
        if (!perCpu() || valueSize != 8) throw new IllegalStateException(name + " is not a per-CPU u64 map");
        byte[] k = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(key).array();
        return lookup(k).map(b -> {
            long sum = 0;
            while (b.remaining() >= 8) sum += b.getLong();
            return sum;
        }).orElse(0L);
    }

    /** All keys currently in a hash map (bpf_map_get_next_key walk). */
    /** A per-CPU array element made of u64 words (a struct of counters): each word summed over CPUs. */
    public long[] sumPerCpuWords(int key) {
        if (!perCpu() || valueSize % 8 != 0) throw new IllegalStateException(name + " is not a per-CPU map of u64 words");
        int words = valueSize / 8;
        long[] sum = new long[words];
        byte[] k = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(key).array();
        lookup(k).ifPresent(b -> {
            // per-CPU values come one after another, each rounded up to 8 bytes
            for (int w = 0; b.remaining() >= 8; w = (w + 1) % words) sum[w] += b.getLong();
        });
        return sum;
    }

    /** Sets the element at {@code key} of a per-CPU array of u64 words to the same words on every CPU. */
    public void setPerCpuWords(int key, long... words) {
        if (!perCpu() || valueSize != words.length * 8) throw new IllegalStateException(name + " does not hold " + words.length + " u64 words");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(4, 8);
            k.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, key);
            int cpus = Libbpf.possibleCpus();
            MemorySegment v = arena.allocate((long) valueSize * cpus, 8);
            for (int cpu = 0; cpu < cpus; cpu++) {
                for (int w = 0; w < words.length; w++) v.set(java.lang.foreign.ValueLayout.JAVA_LONG, (long) cpu * valueSize + w * 8L, words[w]);
            }
            int rc = Native.callInt(() -> (int) Libbpf.MAP_UPDATE_ELEM.invokeExact(fd, k, v, 0L /* BPF_ANY */));
            if (rc != 0) throw new BpfException("update of map " + name + " failed: " + Native.strerror(-rc), -rc);
        }
    }

    public List<byte[]> keys() {
        List<byte[]> out = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment prev = MemorySegment.NULL;
            MemorySegment next = arena.allocate(keySize, 8);
            while (true) {
                MemorySegment after = prev;
                int rc = Native.callInt(() -> (int) Libbpf.MAP_GET_NEXT_KEY.invokeExact(fd, after, next));
                if (rc == -2) break;
                if (rc != 0) throw new BpfException("iterating map " + name + " failed: " + Native.strerror(-rc), -rc);
                out.add(next.toArray(JAVA_BYTE));
                if (prev.equals(MemorySegment.NULL)) prev = arena.allocate(keySize, 8);
                MemorySegment.copy(next, 0, prev, 0, keySize);
                if (out.size() > maxEntries) break; // keys churned under us: stop rather than loop
            }
        }
        return out;
    }

}
