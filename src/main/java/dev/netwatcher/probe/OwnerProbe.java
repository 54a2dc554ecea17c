package dev.netwatcher.probe;

import dev.netwatcher.contract.NwOwnerLayout;

/**
 * bpf/owner.bpf.c: keeps each socket's owner (struct nw_owner) in socket storage that every
 * other object reads. It has no records; Session loads it first and shares its map.
 */
final class OwnerProbe implements CountingProbe {
    static final String MAP = "nw_owners";
    /** The walk of every process's open files that collects the owners of sockets open at start (by inode). */
    static final String SEED_FILES = "nw_own_files";
    /** The walks of one namespace's TCP and UDP sockets that give each its collected owner. */
    static final java.util.List<String> SEED_SOCKETS = java.util.List.of("nw_own_tcp", "nw_own_udp");

    @Override
    public String name() {
        return "owner";
    }

    @Override
    public String option() {
        return "socket owners";
    }

    @Override
    public int recordSize() {
        return NwOwnerLayout.SIZE;
    }

    @Override
    public String describe(String program) {
        return switch (Fallbacks.primaryOf(program)) {
            case "nw_own_send", "nw_own_recv" -> "owners of sockets that send or receive";
            case "nw_own_state" -> "owners of sockets that connect or listen";
            case SEED_FILES, "nw_own_tcp", "nw_own_udp" -> "owners of sockets open at start";
            default -> program;
        };
    }
}
