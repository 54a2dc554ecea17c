# raw_proto.py send|recv ADDR PROTO COUNT SIZE: send: COUNT IP packets of protocol PROTO with SIZE bytes after
# the IP header (the kernel writes the header) to ADDR; recv: prints "ready", then reads COUNT such packets
# from a raw socket bound to ADDR (so the kernel answers none of them with "protocol unreachable") and
# prints how many it got (5 s limit).
import socket, sys
mode, addr, proto, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_RAW, proto)
if mode == 'send':
    for i in range(count):
        s.sendto(bytes([i % 256]) * size, (addr, 0))
else:
    s.bind((addr, 0))
    s.settimeout(5)
    print("ready", flush=True)
    n = 0
    try:
        while n < count:
            s.recv(65536)
            n += 1
    except socket.timeout:
        pass
    print(n, flush=True)
