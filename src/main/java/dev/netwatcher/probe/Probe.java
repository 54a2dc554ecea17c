package dev.netwatcher.probe;

import dev.netwatcher.bpf.NetfilterHook;
import dev.netwatcher.event.Event;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/**
 * One tool: a BPF object (bpf/NAME.bpf.c compiled to /bpf/NAME.bpf.o in the jar),
 * the event types its records carry, and the decoder of those records.
 */
public interface Probe {
    /** Object name: the resource /bpf/NAME.bpf.o. */
    String name();

    /** The option that turns it on, e.g. "-S", for messages. */
    String option();

    /** enum nw_event_type value of its records. */
    int eventType();

    /** Every enum nw_event_type its records may carry. */
    default int[] eventTypes() {
        return new int[] {eventType()};
    }

    /** The event a record carries; null when the record only feeds state (e.g. a request awaiting its answer). */
    Event decode(ByteBuffer b, int off, int len, DecodeContext ctx);

    /** Further events the last decode() completed (a Redis pipeline answers many in one record), one per call, then null. */
    default Event more() {
        return null;
    }

    /** A round of iterator walks (one per watched namespace) starts (see Session.readIterators). */
    default void walksStart() {}

    /** An iterator walk of network namespace netns is about to deliver its records (see Session.readIterators). */
    default void walkStart(long netns, long nowEpochNs) {}

    /** Events due by this time from state the decoder keeps (e.g. a DNS query that timed out); called periodically. */
    default List<Event> expire(long nowEpochNs) {
        return List.of();
    }

    /** sizeof its (main) event struct, from the generated contract (dev.netwatcher.contract). */
    int recordSize();

    /** What each program watches, for "unavailable" messages: program name -> description. */
    default String describe(String program) {
        return program;
    }

    /** A __u32 .rodata value as the BPF object stores it (host byte order). */
    static byte[] u32(int v) {
        return java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.nativeOrder()).putInt(0, v).array();
    }

    /** .rodata globals to set before load, besides nw_filter. */
    default Map<String, byte[]> rodata() {
        return Map.of();
    }

    /**
     * True when each of this probe's hooks has a witness program (named nw_w_*, attached
     * before the probe's program, counting every hit; see nw_hook_hit() in nw_common.h), so
     * the hits the kernel did not run the probe for are counted (Session.missed()).
     */
    default boolean witnessed() {
        return false;
    }

    /** A witness program (see {@link #witnessed()}): it has no event of its own to describe. */
    static boolean isWitness(String program) {
        return program.startsWith("nw_w_");
    }

    /** False for programs this configuration does not need (they are not loaded). */
    /** A program without which the probe gives nothing: if the kernel cannot run it, the probe is unavailable. */
    default boolean essential(String program) {
        return false;
    }

    default boolean wants(String program) {
        return true;
    }

    /** True for a cgroup_skb program: attached to the root of the cgroup v2 hierarchy (every process). */
    default boolean cgroupHook(String program) {
        return false;
    }

    /** A note for the start, given the programs that loaded (what this kernel's choice of hooks leaves out), or null. */
    default String loadNote(List<String> programs) {
        return null;
    }

    /** For a tp/ program: the tracepoints ("category/name") it is attached to besides the one its section names. */
    default List<String> moreTracepoints(String program) {
        return List.of();
    }

    /** For a SEC("netfilter") program: the hooks to link it to, in every watched namespace. */
    default List<NetfilterHook> netfilterHooks(String program) {
        return List.of();
    }

    /** False for a probe whose records name no one (-p counts only): socket owners are then not kept for it. */
    default boolean needsOwners() {
        return true;
    }

    /** Kernel-side counters (index in the per-CPU array map counterMap()) by name, for the summary. */
    default Map<String, Integer> counters() {
        return Map.of();
    }

    /** Counters the user-space decoder keeps (name -> running total), reported like counters() when not 0. */
    default Map<String, Long> decoderCounters() {
        return Map.of();
    }

    default String counterMap() {
        return "nw_counters";
    }
}
