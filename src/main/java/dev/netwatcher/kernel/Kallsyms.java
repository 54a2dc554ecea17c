package dev.netwatcher.kernel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Resolves kernel text addresses to "function+0xoffset" from /proc/kallsyms
 * (root sees real addresses; others see zeros, then nothing resolves).
 */
public final class Kallsyms {
    private final long[] addrs;
    private final String[] names;

    private Kallsyms(long[] addrs, String[] names) {
        this.addrs = addrs;
        this.names = names;
    }

    public static Kallsyms load() throws IOException {
        try (BufferedReader r = Files.newBufferedReader(Path.of("/proc/kallsyms"))) {
            return parse(r);
        }
    }

    /** Parses lines "ffffffff81000000 T _stext [module]"; keeps text symbols (t/T). */
    public static Kallsyms parse(Reader in) throws IOException {
        record Sym(long addr, String name) {}
        List<Sym> syms = new ArrayList<>();
        BufferedReader r = in instanceof BufferedReader b ? b : new BufferedReader(in);
        String line;
        while ((line = r.readLine()) != null) {
            int s1 = line.indexOf(' ');
            if (s1 <= 0 || s1 + 3 >= line.length()) continue;
            char type = line.charAt(s1 + 1);
            if (type != 't' && type != 'T') continue;
            long addr;
            try {
                addr = Long.parseUnsignedLong(line.substring(0, s1), 16);
            } catch (NumberFormatException e) {
                continue;
            }
            if (addr == 0) continue;
            String rest = line.substring(s1 + 3);
            int tab = rest.indexOf('\t');
            String name = tab < 0 ? rest.trim() : rest.substring(0, tab).trim() + " " + rest.substring(tab + 1).trim();
            syms.add(new Sym(addr, name));
        }
        syms.sort((a, b) -> Long.compareUnsigned(a.addr, b.addr));
        long[] addrs = new long[syms.size()];
        String[] names = new String[syms.size()];
        for (int i = 0; i < addrs.length; i++) {
            addrs[i] = syms.get(i).addr;
            names[i] = syms.get(i).name;
        }
        return new Kallsyms(addrs, names);
    }

    public int size() {
        return addrs.length;
    }

    /** "tcp_v4_rcv+0x1a2", or null when the address is below every symbol. */
    public String resolve(long addr) {
        int lo = 0, hi = addrs.length - 1, best = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(addrs[mid], addr) <= 0) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (best < 0) return null;
        String name = names[best];
        int sp = name.indexOf(' ');
        String fn = sp < 0 ? name : name.substring(0, sp);
        String mod = sp < 0 ? "" : " " + name.substring(sp + 1);
        return fn + "+0x" + Long.toHexString(addr - addrs[best]) + mod;
    }

    @Override
    public String toString() {
        return "Kallsyms[" + addrs.length + " symbols" + (addrs.length > 0 ? ", first " + Arrays.asList(names).getFirst() : "") + "]";
    }
}
