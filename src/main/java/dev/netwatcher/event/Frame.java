package dev.netwatcher.event;

/**
 * -w: the bytes of one packet as a device sent or received it, or as the kernel dropped it (see
 * struct capture_event in bpf/include/nw_capture.h): from its link-layer header (link 1,
 * LINKTYPE_ETHERNET) or its IP header (101, LINKTYPE_RAW). data holds the first bytes only when the
 * rest lay in page fragments (data.length &lt; wireLen). dir: "tx", "rx" or "drop". tsNs: wall-clock
 * time of the capture (driver start, LOCAL_IN, the drop). ifname "" and ifindex 0: no device.
 */
public record Frame(long tsNs, long netns, int ifindex, String ifname, String dir, int link, int wireLen, byte[] data) {
}
