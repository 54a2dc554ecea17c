package dev.netwatcher.event;

import java.util.List;

/**
 * --tls: one TLS handshake's hellos. side "client": this host sent the ClientHello; "server": it
 * received it. handshakeNs: ClientHello to ServerHello, as this host saw them (client: sent to
 * received; server: received to sent). The flow reads client -> server. alpn: the protocols the
 * client offered; alpnChosen: the server's choice when it is in the clear (TLS 1.2; TLS 1.3 sends
 * it encrypted), else null.
 */
public record TlsEvent(EventHeader header, Flow flow, String side, String sni, List<String> versionsOffered, String version,
                       List<String> alpn, String alpnChosen, String cipher, long handshakeNs) implements Event {
    @Override
    public String type() {
        return "tls";
    }

    @Override
    public void writeFields(FieldWriter out) {
        out.string("side", side);
        if (sni != null) out.string("sni", sni);
        out.strings("versions_offered", versionsOffered);
        out.string("version", version);
        if (!alpn.isEmpty()) out.strings("alpn", alpn);
        if (alpnChosen != null) out.string("alpn_chosen", alpnChosen);
        out.string("cipher", cipher);
        out.number("handshake_ns", handshakeNs);
    }

    @Override
    public String detail() {
        return String.format("%-6s %s %s %s%s %.3fms", side, sni == null ? "-" : sni, version, cipher,
                alpn.isEmpty() ? "" : " alpn=" + String.join(",", alpn), handshakeNs / 1e6);
    }
}
