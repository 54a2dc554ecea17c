# tcp_send.py SRC_PORT DST_ADDR DST_PORT COUNT SIZE GAP_S: one connection, COUNT writes of SIZE bytes (TCP_NODELAY).
import socket, sys, time
sport, dst, dport, count, size, gap = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
fam = socket.AF_INET6 if ':' in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.bind(('', sport))
s.connect((dst, dport))
for i in range(count):
    s.sendall(b'x' * size)
    time.sleep(gap)
s.close()
