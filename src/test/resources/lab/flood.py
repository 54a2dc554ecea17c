"""Drop floods for DropFloodIT.

flood.py sink ADDR PORT             UDP socket with a 4 KiB receive buffer that never reads; prints "ready"
flood.py udp ADDR PORT SECONDS      64-byte datagrams as fast as it can; prints how many it sent
flood.py syn SRC DST PORT SECONDS   TCP SYNs from a raw socket (IPv4) to a port nobody listens on,
                                    each from a new source port; prints how many it sent
"""
import random
import socket
import struct
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn(src, dst, sport, dport):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(hdr))
    return hdr[:16] + struct.pack("!H", checksum(pseudo + hdr)) + hdr[18:]


def main():
    mode = sys.argv[1]
    if mode == "sink":
        s = socket.socket(family(sys.argv[2]), socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind((sys.argv[2], int(sys.argv[3])))
        print("ready", flush=True)
        time.sleep(3600)
    elif mode == "udp":
        s = socket.socket(family(sys.argv[2]), socket.SOCK_DGRAM)
        s.connect((sys.argv[2], int(sys.argv[3])))
        payload, n = b"x" * 64, 0
        end = time.monotonic() + float(sys.argv[4])
        while time.monotonic() < end:
            for _ in range(256):
                s.send(payload)
            n += 256
        print(n, flush=True)
    elif mode == "syn":
        src, dst, dport = sys.argv[2], sys.argv[3], int(sys.argv[4])
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        packets = [syn(src, dst, 20000 + i, dport) for i in range(40000)]
        n = 0
        end = time.monotonic() + float(sys.argv[5])
        while time.monotonic() < end:
            for p in packets[n % 40000:n % 40000 + 256]:
                s.sendto(p, (dst, 0))
                n += 1
        print(n, flush=True)


if __name__ == "__main__":
    main()
