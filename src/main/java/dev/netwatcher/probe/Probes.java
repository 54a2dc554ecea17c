package dev.netwatcher.probe;

import java.util.List;

/** Every probe netwatcher has, in the order they are loaded. */
public final class Probes {
    public static final TcpStateProbe TCP_STATE = new TcpStateProbe();
    public static final RetransProbe RETRANS = new RetransProbe();
    public static final DropProbe DROP = new DropProbe();
    public static final TcpErrorProbe TCP_ERROR = new TcpErrorProbe();

    private Probes() {}

    public static List<Probe> all() {
        return List.of(TCP_STATE, RETRANS, DROP, TCP_ERROR);
    }
}
