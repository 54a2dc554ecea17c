package dev.netwatcher.probe;

import dev.netwatcher.kernel.CgroupPaths;
import dev.netwatcher.kernel.Clock;
import dev.netwatcher.kernel.Kallsyms;
import dev.netwatcher.kernel.KernelNames;

/** What decoders need besides the record: time base, kernel enum names, (with -T) symbols, cgroup paths. */
public record DecodeContext(Clock clock, KernelNames names, Kallsyms symbols, CgroupPaths cgroups) {
    public DecodeContext(Clock clock, KernelNames names, Kallsyms symbols) {
        this(clock, names, symbols, CgroupPaths.system());
    }
}
