package dev.netwatcher.cli;

import dev.netwatcher.cli.Converters.CgroupConverter;
import dev.netwatcher.cli.Converters.CidrConverter;
import dev.netwatcher.cli.Converters.CommConverter;
import dev.netwatcher.cli.Converters.NetnsConverter;
import dev.netwatcher.cli.Converters.PidConverter;
import dev.netwatcher.cli.Converters.PortConverter;
import dev.netwatcher.probe.Cidr;
import dev.netwatcher.probe.Filter;

import picocli.CommandLine.Option;

/** Which events pass: ports, addresses, namespace and owner (pid, task name, cgroup), applied in the kernel. */
final class FilterOptions {
    @Option(names = {"-s", "--sport"}, paramLabel = "PORT", converter = PortConverter.class,
            description = "Only flows with this source port (local port for socket events).")
    int sport;
    @Option(names = {"-d", "--dport"}, paramLabel = "PORT", converter = PortConverter.class,
            description = "Only flows with this destination port (remote port for socket events).")
    int dport;
    @Option(names = "--saddr", paramLabel = "CIDR", converter = CidrConverter.class,
            description = "Only flows from this address or prefix (IPv4 or IPv6), e.g. 198.18.0.0/15.")
    Cidr saddr;
    @Option(names = "--daddr", paramLabel = "CIDR", converter = CidrConverter.class,
            description = "Only flows to this address or prefix.")
    Cidr daddr;
    @Option(names = "--netns", paramLabel = "INODE", converter = NetnsConverter.class,
            description = "Only events in this network namespace (inode, as in 'ls -L -i /proc/PID/ns/net').")
    long netns;
    @Option(names = "--pid", paramLabel = "PID", converter = PidConverter.class,
            description = "Only events of this process (its threads too): its sockets' packets, drops, retransmits and "
                    + "states, whatever context the kernel handled them in.")
    int pid;
    @Option(names = "--comm", paramLabel = "NAME", converter = CommConverter.class,
            description = "Only events of processes with this task name (as /proc/PID/comm shows it).")
    String comm;
    @Option(names = "--cgroup", paramLabel = "PATH", converter = CgroupConverter.class,
            description = "Only events of processes in this cgroup v2 or below it (a path as in /proc/PID/cgroup, "
                    + "or under /sys/fs/cgroup).")
    long cgroup;

    Filter filter() {
        return new Filter(netns, sport, dport, saddr, daddr).withOwner(pid, comm, cgroup);
    }
}
