package dev.netwatcher.btf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A reader of the BPF Type Format (Documentation/bpf/btf.rst): the kernel's own
 * description of its types, in /sys/kernel/btf/vmlinux and in every BPF object.
 * netwatcher reads from it the names of enum values (drop reasons, RST reasons),
 * which tracepoints exist (btf_trace_* typedefs), .rodata offsets, and event
 * struct layouts to check the Java decoders against.
 */
public final class Btf {
    public static final int INT = 1, PTR = 2, ARRAY = 3, STRUCT = 4, UNION = 5, ENUM = 6, FWD = 7, TYPEDEF = 8,
            VOLATILE = 9, CONST = 10, RESTRICT = 11, FUNC = 12, FUNC_PROTO = 13, VAR = 14, DATASEC = 15,
            FLOAT = 16, DECL_TAG = 17, TYPE_TAG = 18, ENUM64 = 19;
    private static final int MAGIC = 0xEB9F;

    private final ByteBuffer buf;
    private final int typeStart, strStart, strLen;
    private final int[] offsets; // offsets[id] = position of type id's btf_type; id 0 is void

    /** A member of a struct or union: offset in bits from the start of the enclosing type. */
    public record Member(String name, int typeId, int bitOffset, int bitfieldSize) {}

    /** A variable of a DATASEC: byte offset and size inside the section. */
    public record Var(String name, int offset, int size) {}

    /** A resolved (possibly nested) field: byte offset and byte size. */
    public record Field(String path, int offset, int size) {}

    private Btf(ByteBuffer buf) {
        this.buf = buf;
        int magic = Short.toUnsignedInt(buf.getShort(0));
        if (magic != MAGIC) {
            buf.order(buf.order() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            if (Short.toUnsignedInt(buf.getShort(0)) != MAGIC) throw new IllegalArgumentException("not BTF: bad magic");
        }
        int hdrLen = buf.getInt(4);
        int typeOff = buf.getInt(8), typeLen = buf.getInt(12);
        int strOff = buf.getInt(16);
        this.strLen = buf.getInt(20);
        this.typeStart = hdrLen + typeOff;
        this.strStart = hdrLen + strOff;
        if (typeStart + typeLen > buf.limit() || strStart + strLen > buf.limit())
            throw new IllegalArgumentException("not BTF: sections past the end");
        int[] offs = new int[1024];
        int n = 1;
        offs[0] = -1;
        int p = typeStart, end = typeStart + typeLen;
        while (p < end) {
            if (n == offs.length) offs = java.util.Arrays.copyOf(offs, n * 2);
            offs[n++] = p;
            p += 12 + extraSize(p);
        }
        if (p != end) throw new IllegalArgumentException("not BTF: truncated type section");
        offsets = java.util.Arrays.copyOf(offs, n);
    }

    public static Btf parse(ByteBuffer data) {
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        return new Btf(b.slice().order(ByteOrder.LITTLE_ENDIAN));
    }

    public static Btf read(Path file) throws IOException {
        return parse(ByteBuffer.wrap(Files.readAllBytes(file)));
    }

    private static volatile Btf kernel;

    /** The running kernel's BTF (/sys/kernel/btf/vmlinux), read once. */
    public static Btf kernel() throws IOException {
        Btf k = kernel;
        if (k == null) {
            synchronized (Btf.class) {
                if (kernel == null) kernel = read(Path.of("/sys/kernel/btf/vmlinux"));
                k = kernel;
            }
        }
        return k;
    }

    private int extraSize(int p) {
        int info = buf.getInt(p + 4);
        int kind = (info >>> 24) & 0x1f, vlen = info & 0xffff;
        return switch (kind) {
            case INT, VAR, DECL_TAG -> 4;
            case ARRAY -> 12;
            case STRUCT, UNION, DATASEC, ENUM64 -> 12 * vlen;
            case ENUM, FUNC_PROTO -> 8 * vlen;
            case PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG -> 0;
            default -> throw new IllegalArgumentException("not BTF: unknown kind " + kind);
        };
    }

    public int typeCount() {
        return offsets.length - 1;
    }

    public int kind(int id) {
        return (buf.getInt(offsets[id] + 4) >>> 24) & 0x1f;
    }

    private int vlen(int id) {
        return buf.getInt(offsets[id] + 4) & 0xffff;
    }

    private boolean kindFlag(int id) {
        return buf.getInt(offsets[id] + 4) < 0;
    }

    /** size for INT/STRUCT/UNION/ENUM/DATASEC, referenced type id for the others. */
    private int sizeOrType(int id) {
        return buf.getInt(offsets[id] + 8);
    }

    public String name(int id) {
        return string(buf.getInt(offsets[id]));
    }

    private String string(int off) {
        if (off < 0 || off >= strLen) return "";
        int start = strStart + off, end = start;
        while (end < strStart + strLen && buf.get(end) != 0) end++;
        byte[] b = new byte[end - start];
        buf.get(start, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /*
     * The name index: an open-addressing table of type ids keyed by (kind, name bytes), hashed
     * straight from the string section. The kernel's BTF has ~150 k types; making a String of every
     * name (as a HashMap would) was most of netwatcher's BTF time at start-up (bench/startup.sh).
     */
    private int[] index;

    private boolean indexed(int k) {
        return k == STRUCT || k == UNION || k == ENUM || k == ENUM64 || k == TYPEDEF || k == DATASEC || k == VAR || k == FUNC;
    }

    private int nameHash(int kind, int strOff) {
        int h = 0x811c9dc5 ^ kind;
        if (strOff < 0 || strOff >= strLen) return h;
        for (int i = strStart + strOff, end = strStart + strLen; i < end; i++) {
            byte b = buf.get(i);
            if (b == 0) break;
            h = (h ^ b) * 0x01000193;
        }
        return h;
    }

    private static int hash(int kind, byte[] name) {
        int h = 0x811c9dc5 ^ kind;
        for (byte b : name) h = (h ^ b) * 0x01000193;
        return h;
    }

    private boolean nameEquals(int strOff, byte[] name) {
        if (strOff < 0 || strOff >= strLen) return name.length == 0;
        int start = strStart + strOff;
        if (start + name.length >= strStart + strLen + 1) return false;
        for (int i = 0; i < name.length; i++) if (buf.get(start + i) != name[i]) return false;
        return start + name.length == strStart + strLen || buf.get(start + name.length) == 0;
    }

    private synchronized int[] index() {
        if (index == null) {
            int[] t = new int[Integer.highestOneBit(Math.max(16, offsets.length * 2)) * 2];
            int mask = t.length - 1;
            for (int id = 1; id < offsets.length; id++) {
                int k = kind(id);
                if (!indexed(k)) continue;
                int off = buf.getInt(offsets[id]);
                if (off == 0) continue; // anonymous
                int slot = nameHash(k, off) & mask;
                boolean dup = false;
                while (t[slot] != 0) {
                    int other = t[slot];
                    if (kind(other) == k && buf.getInt(offsets[other]) == off) {
                        dup = true; // the first one of a name and kind is kept
                        break;
                    }
                    slot = (slot + 1) & mask;
                }
                if (!dup) t[slot] = id;
            }
            index = t;
        }
        return index;
    }

    /** Type id of a named type of the given kind (first one), if any. */
    public Optional<Integer> find(String name, int kind) {
        int[] t = index();
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        int mask = t.length - 1;
        for (int slot = hash(kind, b) & mask; t[slot] != 0; slot = (slot + 1) & mask) {
            int id = t[slot];
            if (kind(id) == kind && nameEquals(buf.getInt(offsets[id]), b)) return Optional.of(id);
        }
        return Optional.empty();
    }

    /** True when the kernel has function {@code name} in its BTF (what fentry and fexit attach to). */
    public boolean hasFunction(String name) {
        return find(name, FUNC).isPresent();
    }

    /** True when the kernel has tracepoint {@code name} (BTF typedef btf_trace_NAME, needed by tp_btf). */
    public boolean hasTracepoint(String name) {
        return find("btf_trace_" + name, TYPEDEF).isPresent();
    }

    /**
     * Arguments tracepoint {@code name} passes to a tp_btf program, or -1 when the kernel has
     * no such tracepoint: btf_trace_NAME is a typedef of a pointer to a function whose first
     * parameter is the probe's private data, the others the tracepoint's arguments.
     */
    public int tracepointArgs(String name) {
        Optional<Integer> td = find("btf_trace_" + name, TYPEDEF);
        if (td.isEmpty()) return -1;
        int ptr = resolve(td.get());
        if (kind(ptr) != PTR) return -1;
        int proto = resolve(sizeOrType(ptr));
        if (kind(proto) != FUNC_PROTO) return -1;
        return Math.max(0, vlen(proto) - 1);
    }

    /** Values of an enum (ENUM or ENUM64) by value, in declaration order (the first name of a value). */
    public Map<Long, String> enumValues(String enumName) {
        int id = find(enumName, ENUM).or(() -> find(enumName, ENUM64))
                .orElseThrow(() -> new IllegalArgumentException("no enum " + enumName + " in BTF"));
        Map<Long, String> out = new LinkedHashMap<>();
        for (EnumEntry e : enumEntries(id)) out.putIfAbsent(e.value(), e.name());
        return out;
    }

    /** One name of an enum and its value. */
    public record EnumEntry(String name, long value) {}

    /** The entries of enum type id, in declaration order. */
    public List<EnumEntry> enumEntries(int id) {
        List<EnumEntry> out = new ArrayList<>();
        int p = offsets[id] + 12;
        boolean is64 = kind(id) == ENUM64;
        boolean signed = kindFlag(id);
        for (int i = 0; i < vlen(id); i++) {
            String n = string(buf.getInt(p));
            long v;
            if (is64) {
                v = Integer.toUnsignedLong(buf.getInt(p + 4)) | ((long) buf.getInt(p + 8) << 32);
                p += 12;
            } else {
                int raw = buf.getInt(p + 4);
                v = signed ? raw : Integer.toUnsignedLong(raw);
                p += 8;
            }
            out.add(new EnumEntry(n, v));
        }
        return out;
    }

    public List<Member> members(int structId) {
        int k = kind(structId);
        if (k != STRUCT && k != UNION) throw new IllegalArgumentException("type " + structId + " is not a struct");
        List<Member> out = new ArrayList<>();
        int p = offsets[structId] + 12;
        boolean kf = kindFlag(structId);
        for (int i = 0; i < vlen(structId); i++, p += 12) {
            int off = buf.getInt(p + 8);
            out.add(new Member(string(buf.getInt(p)), buf.getInt(p + 4), kf ? off & 0xffffff : off, kf ? off >>> 24 : 0));
        }
        return out;
    }

    /** Skips typedef, const, volatile, restrict and type tags. */
    public int resolve(int id) {
        while (id != 0) {
            int k = kind(id);
            if (k != TYPEDEF && k != CONST && k != VOLATILE && k != RESTRICT && k != TYPE_TAG) return id;
            id = sizeOrType(id);
        }
        return 0;
    }

    /** The type a PTR, VAR, TYPEDEF or qualifier refers to. */
    public int target(int id) {
        int k = kind(id);
        if (k != PTR && k != VAR && k != TYPEDEF && k != CONST && k != VOLATILE && k != RESTRICT && k != TYPE_TAG)
            throw new IllegalArgumentException("type " + id + " refers to no type");
        return sizeOrType(id);
    }

    /** An ARRAY's element type and element count. */
    public record Array(int elementType, int count) {}

    public Array array(int id) {
        if (kind(id) != ARRAY) throw new IllegalArgumentException("type " + id + " is not an array");
        int p = offsets[id] + 12;
        return new Array(buf.getInt(p), buf.getInt(p + 8));
    }

    /** True for a signed INT (BTF_INT_SIGNED) or a signed ENUM. */
    public boolean signed(int id) {
        int k = kind(id);
        if (k == INT) return ((buf.getInt(offsets[id] + 12) >>> 24) & 1) != 0;
        return (k == ENUM || k == ENUM64) && kindFlag(id);
    }

    /** Size in bytes of a type. */
    public int sizeOf(int id) {
        id = resolve(id);
        return switch (kind(id)) {
            case INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT -> sizeOrType(id);
            case PTR -> 8;
            case ARRAY -> {
                int p = offsets[id] + 12;
                yield sizeOf(buf.getInt(p)) * buf.getInt(p + 8);
            }
            case VAR -> sizeOf(sizeOrType(id));
            default -> throw new IllegalArgumentException("type " + id + " has no size");
        };
    }

    /** Size of a named struct, if it exists. */
    public Optional<Integer> structSize(String struct) {
        return find(struct, STRUCT).map(this::sizeOf);
    }

    /** Resolves a dotted field path such as "hdr.ts_ns" in a named struct. */
    public Optional<Field> field(String struct, String path) {
        Optional<Integer> sid = find(struct, STRUCT);
        if (sid.isEmpty()) return Optional.empty();
        int type = sid.get();
        int offsetBits = 0;
        for (String part : path.split("\\.")) {
            type = resolve(type);
            if (kind(type) != STRUCT && kind(type) != UNION) return Optional.empty();
            Member found = null;
            for (Member m : members(type)) {
                if (m.name().equals(part)) {
                    found = m;
                    break;
                }
            }
            if (found == null) return Optional.empty();
            offsetBits += found.bitOffset();
            type = found.typeId();
        }
        return Optional.of(new Field(path, offsetBits / 8, sizeOf(type)));
    }

    /** A variable inside a DATASEC such as ".rodata". */
    public Optional<Var> datasecVar(String section, String variable) {
        Optional<Integer> sec = find(section, DATASEC);
        if (sec.isEmpty()) return Optional.empty();
        int p = offsets[sec.get()] + 12;
        for (int i = 0; i < vlen(sec.get()); i++, p += 12) {
            int varId = buf.getInt(p);
            if (name(varId).equals(variable)) return Optional.of(new Var(variable, buf.getInt(p + 4), buf.getInt(p + 8)));
        }
        return Optional.empty();
    }
}
