"""bad_seq.py SRC DST DPORT SPORT N: connects SRC:SPORT -> DST:DPORT (IPv4 or IPv6), reads the
connection's next sequence numbers in TCP repair mode (CAP_NET_ADMIN), then sends N segments of
10 bytes from a raw socket with the right ports and ACK but a sequence number 2^30 beyond the
window: the receiver drops each one (tcp_sequence(): TCP_INVALID_SEQUENCE) and answers with a
duplicate ACK. Prints "sent N", then keeps the connection open until stdin closes."""
import socket, struct, sys

src, dst, dport, sport, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
TCP_REPAIR, TCP_REPAIR_QUEUE, TCP_QUEUE_SEQ, RECV_QUEUE, SEND_QUEUE = 19, 20, 21, 1, 2
v6 = ":" in dst
fam = socket.AF_INET6 if v6 else socket.AF_INET


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


c = socket.socket(fam, socket.SOCK_STREAM)
c.bind((src, sport))
c.connect((dst, dport))
c.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
c.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, SEND_QUEUE)
snd_nxt = struct.unpack("I", c.getsockopt(socket.IPPROTO_TCP, TCP_QUEUE_SEQ, 4))[0]
c.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, RECV_QUEUE)
rcv_nxt = struct.unpack("I", c.getsockopt(socket.IPPROTO_TCP, TCP_QUEUE_SEQ, 4))[0]
c.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 0)

payload = b"bad-seq-xx"
seq = (snd_nxt + (1 << 30)) & 0xFFFFFFFF
srcb, dstb = socket.inet_pton(fam, src), socket.inet_pton(fam, dst)
hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, rcv_nxt, 5 << 4, 0x10, 65535, 0, 0)
pseudo = srcb + dstb + (struct.pack("!I3xB", 20 + len(payload), 6) if v6 else struct.pack("!BBH", 0, 6, 20 + len(payload)))
c_sum = csum(pseudo + hdr + payload)
seg = hdr[:16] + struct.pack("!H", c_sum) + hdr[18:] + payload
if v6:
    r = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)  # the kernel adds the IPv6 header
    for _ in range(n):
        r.sendto(seg, (dst, 0))
else:
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)  # the kernel adds the IPv4 header
    for _ in range(n):
        r.sendto(seg, (dst, 0))
print("sent %d" % n, flush=True)
sys.stdin.read()
c.close()
