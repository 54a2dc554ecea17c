# udp_stall_recv.py ADDR PORT WARM STALLED STALL_S: prints "ready", reads WARM datagrams as they come, then
# sleeps STALL_S before each of the next STALLED reads (they wait in the socket queue meanwhile), and
# prints how many it read (10 s limit per datagram).
import socket, sys, time
addr, port, warm, stalled, stall = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((addr, port))
s.settimeout(10)
print("ready", flush=True)
n = 0
try:
    for i in range(warm + stalled):
        if i >= warm:
            time.sleep(stall)
        s.recv(65536)
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
