package dev.netwatcher.event;

/** -t/-u: packets and payload bytes of one flow so far, each way. The flow reads local -> remote. */
public record FlowTotal(long netns, Flow flow, long txPackets, long txBytes, long rxPackets, long rxBytes) {}
