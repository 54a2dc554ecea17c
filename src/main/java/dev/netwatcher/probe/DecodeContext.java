package dev.netwatcher.probe;

import dev.netwatcher.kernel.Clock;
import dev.netwatcher.kernel.Kallsyms;
import dev.netwatcher.kernel.KernelNames;

/** What decoders need besides the record: time base, kernel enum names, and (with -T) symbols. */
public record DecodeContext(Clock clock, KernelNames names, Kallsyms symbols) {}
