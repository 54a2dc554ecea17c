# udp_send.py SRC_ADDR SRC_PORT DST_ADDR DST_PORT COUNT SIZE GAP_S [connect]: sends COUNT datagrams
# from a fixed port, each naming its destination (sendto), or with "connect" on a connected socket (send).
import socket, sys, time
src, sport, dst, dport, count, size, gap = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
connected = len(sys.argv) > 8 and sys.argv[8] == "connect"
fam = socket.AF_INET6 if ':' in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((src, sport))
if connected:
    s.connect((dst, dport))
for i in range(count):
    if connected:
        s.send(bytes([i % 256]) * size)
    else:
        s.sendto(bytes([i % 256]) * size, (dst, dport))
    time.sleep(gap)
