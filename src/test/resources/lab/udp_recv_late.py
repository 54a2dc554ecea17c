# udp_recv_late.py ADDR PORT COUNT: binds with a receive buffer large enough for COUNT small datagrams,
# prints "ready", waits for a line on stdin (the sender is done: they all wait in the socket queue),
# then reads them and prints how many it read (1 s without one ends the read).
import socket, sys
addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind((addr, port))
print("ready", flush=True)
sys.stdin.readline()
s.settimeout(1)
n = 0
try:
    while n < count:
        s.recv(65536)
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
