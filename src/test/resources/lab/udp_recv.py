# udp_recv.py ADDR PORT COUNT: prints "ready", then receives COUNT datagrams (10 s limit) and prints how many.
import socket, sys
addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((addr, port))
s.settimeout(10)
print("ready", flush=True)
n = 0
try:
    while n < count:
        s.recv(65536)
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
