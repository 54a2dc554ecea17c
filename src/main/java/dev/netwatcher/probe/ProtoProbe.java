package dev.netwatcher.probe;

import dev.netwatcher.bpf.BpfMap;
import dev.netwatcher.bpf.BpfObject;
import dev.netwatcher.contract.NwProtoBucket;
import dev.netwatcher.contract.ProtoCountLayout;
import dev.netwatcher.event.IpProtocols;
import dev.netwatcher.stats.ProtoCount;

import java.util.ArrayList;
import java.util.List;

/** -p (bpf/proto.bpf.c): packets and bytes per protocol, counted in the kernel; no records. */
public final class ProtoProbe implements CountingProbe {
    @Override
    public String name() {
        return "proto";
    }

    @Override
    public String option() {
        return "-p";
    }

    @Override
    public int recordSize() {
        return ProtoCountLayout.SIZE;
    }

    @Override
    public String describe(String program) {
        return program.equals("nw_proto_rx") ? "received packets per protocol" : "sent packets per protocol";
    }

    @Override
    public boolean needsOwners() {
        return false;
    }

    @Override
    public boolean essential(String program) {
        return true;
    }

    /** Every protocol seen since start, with its totals. */
    List<ProtoCount> totals(BpfObject obj) {
        BpfMap m = obj.map("proto_counts");
        List<ProtoCount> out = new ArrayList<>();
        int words = ProtoCountLayout.SIZE / 8;
        for (int bucket = 0; bucket < NwProtoBucket.NW_PB_COUNT; bucket++) {
            long[] w = m.sumPerCpuWords(bucket);
            if (w.length < words) continue;
            long rxP = w[ProtoCountLayout.PACKETS / 8], txP = w[ProtoCountLayout.PACKETS / 8 + 1];
            long rxB = w[ProtoCountLayout.BYTES / 8], txB = w[ProtoCountLayout.BYTES / 8 + 1];
            if (rxP == 0 && txP == 0) continue;
            out.add(new ProtoCount(family(bucket), proto(bucket), rxP, rxB, txP, txB));
        }
        return out;
    }

    static String family(int bucket) {
        if (bucket < NwProtoBucket.NW_PB_IPV6) return "ipv4";
        if (bucket < NwProtoBucket.NW_PB_ARP) return "ipv6";
        return bucket == NwProtoBucket.NW_PB_ARP ? "arp" : "other";
    }

    static String proto(int bucket) {
        if (bucket < NwProtoBucket.NW_PB_IPV6) return IpProtocols.name(bucket - NwProtoBucket.NW_PB_IPV4);
        if (bucket < NwProtoBucket.NW_PB_ARP) return IpProtocols.name(bucket - NwProtoBucket.NW_PB_IPV6);
        return "-";
    }
}
