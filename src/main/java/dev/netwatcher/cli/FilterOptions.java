package dev.netwatcher.cli;

import dev.netwatcher.cli.Converters.CgroupConverter;
import dev.netwatcher.cli.Converters.CidrConverter;
import dev.netwatcher.cli.Converters.CommConverter;
import dev.netwatcher.cli.Converters.NetnsConverter;
import dev.netwatcher.cli.Converters.PidConverter;
import dev.netwatcher.cli.Converters.PortConverter;
import dev.netwatcher.probe.Cidr;
import dev.netwatcher.probe.Filter;

import dev.netwatcher.bpf.PcapFilter;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

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
    @Parameters(paramLabel = "EXPRESSION", arity = "0..*",
            description = "Only packets this pcap-filter(7) expression matches, as tcpdump takes it (e.g. 'tcp port 443 and "
                    + "net 10.0.0.0/8'), decided in the kernel for -t, -u, -I, -n and -k; the packet as seen from its IP header.")
    List<String> expression;

    /** The expression's words as one text, or null. */
    String expression() {
        return expression == null || expression.isEmpty() ? null : String.join(" ", expression);
    }

    /** The filter, the expression compiled by libpcap (a bad one: libpcap's message, exit 2). */
    Filter filter() {
        Filter f = new Filter(netns, sport, dport, saddr, daddr).withOwner(pid, comm, cgroup);
        String text = expression();
        if (text == null) return f;
        try {
            return f.withPcap(new Filter.PcapProgram(text, PcapFilter.compile(text, 262144)));
        } catch (PcapFilter.Invalid e) {
            throw new UsageException("filter expression '" + text + "': " + e.getMessage());
        }
    }
}
