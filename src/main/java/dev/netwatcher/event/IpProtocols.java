package dev.netwatcher.event;

/** Names of IP protocol numbers (IANA "Assigned Internet Protocol Numbers", as /etc/protocols spells them). */
public final class IpProtocols {
    private IpProtocols() {}

    private static final String[] NAMES = new String[256];

    static {
        String[][] known = {{"0", "hopopt"}, {"1", "icmp"}, {"2", "igmp"}, {"4", "ipip"}, {"6", "tcp"}, {"8", "egp"},
                {"17", "udp"}, {"33", "dccp"}, {"41", "ipv6"}, {"43", "ipv6-route"}, {"44", "ipv6-frag"}, {"46", "rsvp"},
                {"47", "gre"}, {"50", "esp"}, {"51", "ah"}, {"58", "ipv6-icmp"}, {"59", "ipv6-nonxt"}, {"60", "ipv6-opts"},
                {"88", "eigrp"}, {"89", "ospf"}, {"94", "ipip"}, {"103", "pim"}, {"108", "ipcomp"}, {"112", "vrrp"},
                {"115", "l2tp"}, {"132", "sctp"}, {"135", "mobility-header"}, {"136", "udplite"}, {"137", "mpls-in-ip"},
                {"143", "ethernet"}, {"262", "mptcp"}};
        for (String[] k : known) {
            int n = Integer.parseInt(k[0]);
            if (n < 256) NAMES[n] = k[1];
        }
    }

    /** The protocol's name, or its number ("253") when it has none here. */
    public static String name(int protocol) {
        String n = protocol >= 0 && protocol < 256 ? NAMES[protocol] : null;
        return n != null ? n : Integer.toString(protocol);
    }
}
