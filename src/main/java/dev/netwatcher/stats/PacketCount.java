package dev.netwatcher.stats;

/** Packets and payload bytes of one direction and protocol, counted in the kernel (--metrics). */
public record PacketCount(String dir, String proto, long packets, long bytes) {}
