package dev.netwatcher.event;

/** TCP state names (include/net/tcp_states.h). */
public final class TcpStates {
    private static final String[] NAMES = {"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
            "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
            "BOUND_INACTIVE"};
    private static final String[] CA_STATES = {"Open", "Disorder", "CWR", "Recovery", "Loss"};

    private TcpStates() {}

    /** include/net/tcp_states.h: a request socket (SYN received, not accepted yet). */
    public static final int NEW_SYN_RECV = 12;

    public static String name(int state) {
        return state > 0 && state < NAMES.length ? NAMES[state] : "STATE_" + state;
    }

    /** Congestion-avoidance state (enum tcp_ca_state). */
    public static String caName(int caState) {
        return caState >= 0 && caState < CA_STATES.length ? CA_STATES[caState] : "CA_" + caState;
    }
}
