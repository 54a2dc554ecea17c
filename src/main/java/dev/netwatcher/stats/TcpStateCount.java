package dev.netwatcher.stats;

/** Sockets in one TCP state in the last socket walk (-x, the overview). */
public record TcpStateCount(String state, long sockets) {}
