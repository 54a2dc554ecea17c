# udp_recv.py ADDR PORT COUNT [late]: prints "ready", then receives COUNT datagrams (10 s limit) and prints
# how many. With "late": a receive buffer large enough for COUNT small datagrams, and nothing is read
# until a line arrives on stdin (the sender is done: they all wait in the socket queue); then 1 s
# without a datagram ends the read.
import socket, sys
addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
late = len(sys.argv) > 4 and sys.argv[4] == "late"
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if late:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind((addr, port))
print("ready", flush=True)
if late:
    sys.stdin.readline()
s.settimeout(1 if late else 10)
n = 0
try:
    while n < count:
        s.recv(65536)
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
