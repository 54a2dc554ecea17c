package dev.netwatcher.cli;

import dev.netwatcher.cli.Converters.DurationConverter;
import dev.netwatcher.probe.PacketProbe;

import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

/**
 * What to watch: the original tool's options (-a -e -I -k -L -n -r -S -t -T -u -x) and the probes
 * added beside them (-p, --stack, --rtt), with the period of the socket walks. Each option turns on
 * one probe (Netwatcher.selectProbes); none at all is the overview.
 */
final class WatchOptions {
    @Option(names = {"-a", "--all"}, description = "Closed TCP connections: one line each when it ends (duration, bytes, retransmits, last state), also in connect.log.")
    boolean all;
    @Option(names = {"-e", "--err"}, description = "TCP errors: resets sent/received, bad checksums, socket errors.")
    boolean err;
    @Option(names = {"-I", "--icmptime"}, description = "ICMP: time from an echo request's arrival to the reply, with per-layer times.")
    boolean icmp;
    @Option(names = {"-k", "--drop_reason"}, description = "Packet drops (kfree_skb) with the kernel's drop reason.")
    boolean drops;
    @Option(names = {"-L", "--timeload"}, description = "Abnormal-latency warnings and a time-load table per interval (with -t -u -n -I).")
    boolean timeload;
    @Option(names = {"-n", "--net_filter"}, description = "Time each packet spends in each netfilter hook.")
    boolean netfilter;
    @Option(names = {"-p", "--proto"}, description = "Protocol share: packets and bytes per protocol (all of IP, ARP, "
            + "other frames) received and sent by every interface, each --interval, counted in the kernel.")
    boolean proto;
    @Option(names = {"-r", "--retrans"}, description = "TCP retransmissions, one event each.")
    boolean retrans;
    @Option(names = {"-S", "--tcpstate"}, description = "TCP state changes with the time spent in the old state.")
    boolean tcpstate;
    @Option(names = {"-t", "--time"}, description = "Per-layer time of every TCP packet, both directions.")
    boolean time;
    @Option(names = {"-T", "--addr_to_func"}, description = "Show drop locations as function+0xoffset (needs -k).")
    boolean addrToFunc;
    @Option(names = "--stack", description = "With -k: the kernel stack of each drop (JSON \"stack\", innermost frame first; "
            + "the console shows its first functions) and the top stacks per reason at exit.")
    boolean stack;
    @Option(names = {"-u", "--udp"}, description = "Per-layer time of every UDP packet, and packets/bytes per flow.")
    boolean udp;
    @Option(names = {"-x", "--extra"}, description = "TCP connection detail every --conn-every seconds and on state change: seq/ack, cwnd, "
            + "ssthresh, windows, srtt, buffers, retransmits, listen backlog (the numbers of 'ss -ti').")
    boolean extra;
    @Option(names = "--rtt", description = "Smoothed RTT per TCP connection every --conn-every seconds, and RTT samples per remote address.")
    boolean rtt;
    @Option(names = "--conn-every", paramLabel = "SECONDS", converter = DurationConverter.class, defaultValue = "5",
            description = "Period of the -x / --rtt reports (default: ${DEFAULT-VALUE}; also at start and, for --rtt, at exit), "
                    + "and of the overview (default there: 1).")
    double connEvery = 5; // the same as defaultValue: picocli leaves an unmatched group as initialised

    /** -t, -u and -I as PacketProbe modes (0: no packet timing). */
    int packetModes() {
        return (time ? PacketProbe.MODE_TCP : 0) | (udp ? PacketProbe.MODE_UDP : 0) | (icmp ? PacketProbe.MODE_ICMP : 0);
    }

    /** Options that only mean something with another of this group. */
    void validate() {
        if (addrToFunc && !drops) throw new UsageException("-T (--addr_to_func) resolves drop locations: use it with -k");
        if (stack && !drops) throw new UsageException("--stack shows the kernel stack of drops: use it with -k");
        if (timeload && packetModes() == 0 && !netfilter)
            throw new UsageException("-L (--timeload) analyses latency: use it with -t, -u, -n or -I");
    }

    /** --conn-every, once it is known whether the run is the overview (no probe option at all). */
    void validateConnEvery(ParseResult pr, boolean overview) {
        if (pr.hasMatchedOption("--conn-every") && !extra && !rtt && !overview)
            throw new UsageException("--conn-every belongs to -x/--rtt or the overview (no probe option)");
    }
}
