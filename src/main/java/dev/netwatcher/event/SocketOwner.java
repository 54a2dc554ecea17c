package dev.netwatcher.event;

/** The process holding a socket open (a file descriptor of it, as `ss -p` finds it). */
public record SocketOwner(int pid, String comm) {
}
