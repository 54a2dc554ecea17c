package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfException;
import dev.netwatcher.bpf.BpfLink;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.bpf.NetNamespaces;

import java.util.List;
import java.util.Optional;

/**
 * Names the owners of the sockets open when netwatcher starts (owner.bpf.c), on a thread of its
 * own while the other objects load: the walk of every process's open files collects an owner per
 * socket inode, then each watched namespace's TCP and UDP sockets take theirs (the socket
 * iterators walk the reader's namespace, so the reading thread enters each one).
 */
final class OwnerSeed {
    private final Thread thread;
    private volatile String failure;

    private OwnerSeed(BpfObject owners, Filter filter) {
        thread = Thread.ofPlatform().name("netwatcher-owner-seed").start(() -> walk(owners, filter));
    }

    /** Starts the walks of the attached owner object's iterators. */
    static OwnerSeed start(BpfObject owners, Filter filter) {
        return new OwnerSeed(owners, filter);
    }

    private void walk(BpfObject owners, Filter filter) {
        try {
            Optional<BpfLink> files = owners.link(OwnerProbe.SEED_FILES);
            if (files.isEmpty()) return;
            files.get().readIterator(); // every process's sockets by inode (nw_seed)
            List<BpfLink> walks = OwnerProbe.SEED_SOCKETS.stream().map(owners::link).flatMap(Optional::stream).toList();
            List<NetNamespaces.Namespace> spaces = NetNamespaces.discover();
            if (filter.netns() != 0) spaces = spaces.stream().filter(n -> n.inode() == filter.netns()).toList();
            for (NetNamespaces.Namespace ns : spaces) {
                try {
                    NetNamespaces.inNamespace(ns.path(), () -> {
                        for (BpfLink w : walks) w.readIterator();
                        return null;
                    });
                } catch (BpfException gone) {
                    // the namespace went away: its sockets get owners when next used
                }
            }
        } catch (BpfException e) {
            failure = "socket owners open at start: " + e.getMessage();
        }
    }

    /** Waits for the walks; what went wrong, if anything (a line for unavailable()). */
    Optional<String> await() {
        Joins.all(List.of(thread));
        return Optional.ofNullable(failure);
    }
}
