package dev.netwatcher.probe;

import dev.netwatcher.contract.NwOwnerLayout;

/**
 * bpf/owner.bpf.c: keeps each socket's owner (struct nw_owner) in socket storage that every
 * other object reads. It has no records; Session loads it first and shares its map.
 */
final class OwnerProbe implements CountingProbe {
    static final String MAP = "nw_owners";
    /** The walk of every process's open files that names the sockets open at start. */
    static final String SEED = "nw_own_seed";

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
            case SEED -> "owners of sockets open at start";
            default -> program;
        };
    }
}
