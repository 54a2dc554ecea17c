package dev.netwatcher.event;

/** -n: the time a packet spent in each netfilter hook it passed. dir: tx (sent from here), rx, fwd. */
public record NetfilterEvent(EventHeader header, Flow flow, String dir, Layers hooks, int len, int ifindex)
        implements Event {
    public static final String[] HOOKS = {"PRE_ROUTING", "LOCAL_IN", "FORWARD", "LOCAL_OUT", "POST_ROUTING"};

    @Override
    public String type() {
        return "netfilter";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("dir", dir);
        out.number("len", len);
        out.number("ifindex", ifindex);
        out.layers("hooks_ns", hooks);
    }

    public static String legend() {
        return "netfilter: DIR LEN, then µs per hook: PRE_ROUTING LOCAL_IN FORWARD LOCAL_OUT POST_ROUTING";
    }

    @Override
    public String detail() {
        return detail(new StringBuilder(64)).toString();
    }

    @Override
    public StringBuilder detail(StringBuilder sb) {
        Text.left(sb, dir, 3).append(' ');
        Text.right(sb, len, 6).append(' ');
        return hooks.columns(sb);
    }
}
