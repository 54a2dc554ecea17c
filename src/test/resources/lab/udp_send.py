# udp_send.py SRC_ADDR SRC_PORT DST_ADDR DST_PORT COUNT SIZE GAP_S [connect] [timed]: sends COUNT datagrams
# from a fixed port, each naming its destination (sendto), or with "connect" on a connected socket (send).
# With "timed", prints the longest send call in µs (a send's whole path to LOCAL_OUT is inside it).
import socket, sys, time
src, sport, dst, dport, count, size, gap = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
connected = "connect" in sys.argv[8:]
timed = "timed" in sys.argv[8:]
fam = socket.AF_INET6 if ':' in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((src, sport))
if connected:
    s.connect((dst, dport))
slowest = 0
for i in range(count):
    t = time.monotonic_ns()
    if connected:
        s.send(bytes([i % 256]) * size)
    else:
        s.sendto(bytes([i % 256]) * size, (dst, dport))
    slowest = max(slowest, time.monotonic_ns() - t)
    time.sleep(gap)
if timed:
    print(slowest // 1000, flush=True)
