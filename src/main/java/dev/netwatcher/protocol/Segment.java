package dev.netwatcher.protocol;

import dev.netwatcher.event.EventHeader;
import dev.netwatcher.event.Flow;

/**
 * The first bytes of one packet's payload (struct payload_event, bpf/payload.h).
 * cookie is the socket's cookie (a request and its response share it); seq is the TCP
 * sequence number of the first payload byte (0 for UDP), the same in a retransmission;
 * egress tells sent from received; data holds the copied bytes, payloadLen the whole payload.
 */
public record Segment(EventHeader header, Flow flow, long cookie, long seq, boolean egress, Kind kind, int payloadLen,
                      byte[] data) {
    public enum Kind { HTTP, DNS, TLS, MYSQL, REDIS }
}
