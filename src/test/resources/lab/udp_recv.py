# udp_recv.py ADDR PORT COUNT [late|timed]: prints "ready", then receives COUNT datagrams (10 s limit) and prints
# how many. With "late": a receive buffer large enough for COUNT small datagrams, and nothing is read
# until a line arrives on stdin (the sender is done: they all wait in the socket queue); then 1 s
# without a datagram ends the read. With "timed": then a line "LATE MAX": how many datagrams waited
# more than 1 ms from their arrival (the kernel's receive timestamp, SO_TIMESTAMPNS) to their read, and
# the longest wait in µs (a datagram's socket time is part of it).
import socket, struct, sys, time
addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
late = len(sys.argv) > 4 and sys.argv[4] == "late"
timed = len(sys.argv) > 4 and sys.argv[4] == "timed"
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if late:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
SO_TIMESTAMPNS = 35  # asm-generic/socket.h (SO_TIMESTAMPNS_OLD); Python's socket module lacks the name
if timed:
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.bind((addr, port))
print("ready", flush=True)
if late:
    sys.stdin.readline()
s.settimeout(1 if late else 10)
n = waited = longest = 0
try:
    while n < count:
        if timed:
            _, anc, _, _ = s.recvmsg(65536, 64)
            now = time.clock_gettime_ns(time.CLOCK_REALTIME)
            sec, nsec = struct.unpack("qq", anc[0][2][:16])
            wait = now - (sec * 1_000_000_000 + nsec)
            waited += wait > 1_000_000
            longest = max(longest, wait)
        else:
            s.recv(65536)
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
if timed:
    print(waited, longest // 1000, flush=True)
