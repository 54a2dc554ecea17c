package dev.netwatcher.event;

/**
 * -w: the bytes of one packet as a device sent or received it (see struct capture_event in
 * bpf/packet.h): from its link-layer header (link 1, LINKTYPE_ETHERNET) or its IP header (101,
 * LINKTYPE_RAW). data holds the first bytes only when the rest lay in page fragments
 * (data.length &lt; wireLen). tsNs: wall-clock time of the capture (driver start, LOCAL_IN).
 */
public record Frame(long tsNs, long netns, int ifindex, String ifname, boolean rx, int link, int wireLen, byte[] data) {
}
