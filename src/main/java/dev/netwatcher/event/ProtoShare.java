package dev.netwatcher.event;

import java.util.Locale;

/**
 * -p: one protocol's packets and bytes in an interval, both directions (bytes from the network
 * header on), and its share of all packets and bytes the host's interfaces saw in it (percent).
 * family: "ipv4", "ipv6", or for other frames "arp" / "other" (proto then "-").
 */
public record ProtoShare(String family, String proto, long rxPackets, long rxBytes, long txPackets, long txBytes,
                         double packetShare, double byteShare) implements Report.Row {
    @Override
    public void writeFields(FieldWriter w) {
        w.string("family", family);
        w.string("proto", proto);
        w.number("rx_packets", rxPackets);
        w.number("rx_bytes", rxBytes);
        w.number("tx_packets", txPackets);
        w.number("tx_bytes", txBytes);
        w.decimal("packet_share", packetShare);
        w.decimal("byte_share", byteShare);
    }

    @Override
    public String line() {
        return String.format(Locale.ROOT, "%-6s %-16s %10d %13d %10d %13d %6.2f %6.2f", family, proto, rxPackets, rxBytes,
                txPackets, txBytes, packetShare, byteShare);
    }
}
