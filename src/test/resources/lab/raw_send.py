# raw_send.py KIND SRC DST DPORT: sends crafted packets from a raw socket (CAP_NET_RAW).
#   v4opts  IPv4 with 8 bytes of IP options, then UDP
#   v4trunc IPv4 that says UDP but carries only 4 bytes of the UDP header
#   v6dst   IPv6, a Destination Options extension header, then UDP
#   v6hop2  IPv6, Hop-by-Hop then Destination Options, then UDP
#   v6frag  IPv6, a Fragment header (first fragment, more to come), then UDP
#   garbage IPv4 with protocol UDP and 40 random bytes after the header (but for the destination port)
import os, socket, struct, sys

kind, src, dst, dport = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
SPORT = 40100
payload = b"netwatcher-crafted"


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def udp6(srcb, dstb):
    length = 8 + len(payload)
    hdr = struct.pack("!HHHH", SPORT, dport, length, 0)
    pseudo = srcb + dstb + struct.pack("!I3xB", length, 17)
    c = csum(pseudo + hdr + payload) or 0xFFFF
    return struct.pack("!HHHH", SPORT, dport, length, c) + payload


if kind.startswith("v4") or kind == "garbage":
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # IP_HDRINCL
    srcb, dstb = socket.inet_aton(src), socket.inet_aton(dst)
    opts = b""
    if kind == "v4opts":
        opts = b"\x01" * 7 + b"\x00"  # NOP x7, End of Options List
        body = struct.pack("!HHHH", SPORT, dport, 8 + len(payload), 0) + payload
    elif kind == "v4trunc":
        body = struct.pack("!HH", SPORT, dport)
    else:  # random bytes, but to DPORT: the test knows whose drops they are
        body = os.urandom(2) + struct.pack("!H", dport) + os.urandom(36)
    ihl = 5 + len(opts) // 4
    # total length and header checksum are filled in by the kernel (raw(7))
    ip = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, 0, 0x1234, 0, 64, 17, 0, srcb, dstb) + opts
    s.sendto(ip + body, (dst, 0))
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)  # the whole header is ours
    srcb, dstb = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    udp = udp6(srcb, dstb)
    dest_opts = struct.pack("!BB", 17, 0) + b"\x01\x04\x00\x00\x00\x00"  # next UDP, 8 bytes, PadN
    if kind == "v6dst":
        ext, first = dest_opts, 60
    elif kind == "v6frag":
        ext, first = struct.pack("!BBHI", 17, 0, 0x0001, 0x4E570001), 44  # offset 0, M=1, id
    else:  # v6hop2
        hop = struct.pack("!BB", 60, 0) + b"\x01\x04\x00\x00\x00\x00"  # next Dest Options, PadN
        ext, first = hop + dest_opts, 0
    body = ext + udp
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(body), first, 64, srcb, dstb)
    s.sendto(ip6 + body, (dst, 0))
