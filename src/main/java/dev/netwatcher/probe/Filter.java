package dev.netwatcher.probe;

import dev.netwatcher.contract.NwFilterLayout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the kernel side lets through (struct nw_filter in bpf/include/nw_common.h).
 * Ports and addresses match the flow as reported: local/remote for socket events,
 * source/destination for packet events. 0 or null means "any". pid, comm and cgroup (a cgroup
 * v2 id: that cgroup and those below it) match the event's owner (nw_owner_pass_at()). pcap is a
 * pcap-filter(7) expression compiled to classic BPF (bpf/include/nw_pcap_filter.h), or null.
 */
public record Filter(long netns, int sport, int dport, Cidr saddr, Cidr daddr, int pid, String comm, long cgroup,
                     PcapProgram pcap) {
    public static final Filter NONE = new Filter(0, 0, 0, null, null);

    public Filter(long netns, int sport, int dport, Cidr saddr, Cidr daddr) {
        this(netns, sport, dport, saddr, daddr, 0, null, 0, null);
    }

    /** A compiled pcap-filter expression: its text and its classic BPF instructions (struct bpf_insn, 8 bytes each). */
    public record PcapProgram(String expression, byte[] insns) {
        public int length() {
            return insns.length / 8;
        }
    }

    /** This filter, keeping only events whose owner is this process, task name and cgroup (0/null: any). */
    public Filter withOwner(int pid, String comm, long cgroup) {
        return new Filter(netns, sport, dport, saddr, daddr, pid, comm, cgroup, pcap);
    }

    /** This filter, keeping only packets the expression matches. */
    public Filter withPcap(PcapProgram program) {
        return new Filter(netns, sport, dport, saddr, daddr, pid, comm, cgroup, program);
    }

    public boolean byOwner() {
        return pid != 0 || (comm != null && !comm.isEmpty()) || cgroup != 0;
    }
    /** sizeof(struct nw_filter): the bytes of the .rodata variable nw_filter. */
    public static final int SIZE = NwFilterLayout.SIZE;

    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(NwFilterLayout.NETNS, (int) netns);
        b.putShort(NwFilterLayout.SPORT, (short) sport);
        b.putShort(NwFilterLayout.DPORT, (short) dport);
        if (saddr != null) {
            b.put(NwFilterLayout.SADDR_FAMILY, (byte) saddr.family()).put(NwFilterLayout.SADDR_PREFIX, (byte) saddr.prefix());
            b.put(NwFilterLayout.SADDR, saddr.address().getAddress());
        }
        if (daddr != null) {
            b.put(NwFilterLayout.DADDR_FAMILY, (byte) daddr.family()).put(NwFilterLayout.DADDR_PREFIX, (byte) daddr.prefix());
            b.put(NwFilterLayout.DADDR, daddr.address().getAddress());
        }
        if (byOwner()) {
            b.putInt(NwFilterLayout.OWNER, 1).putInt(NwFilterLayout.PID, pid).putLong(NwFilterLayout.CGROUP, cgroup);
            if (comm != null) {
                byte[] c = comm.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                b.put(NwFilterLayout.COMM, c, 0, Math.min(c.length, NwFilterLayout.COMM_LEN - 1));
            }
        }
        return b.array();
    }
}
