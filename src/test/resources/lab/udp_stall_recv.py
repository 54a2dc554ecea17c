# udp_stall_recv.py ADDR PORT WARM STALLED STALL_S [queued]: prints "ready", reads WARM datagrams as they come, then
# sleeps STALL_S before each of the next STALLED reads (they wait in the socket queue meanwhile), and
# prints how many it read (10 s limit per datagram). With "queued", each of those sleeps starts once a
# datagram is in the queue, so the one read next waited at least STALL_S there, however late the sender
# was (timed from the last read, a 50 ms stall left the first stalled datagram 40.7-49 ms under CPU load
# where the tests assert 40).
import select, socket, sys, time
addr, port, warm, stalled, stall = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
queued = len(sys.argv) > 6 and sys.argv[6] == "queued"
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((addr, port))
s.settimeout(10)
print("ready", flush=True)
n = 0
try:
    for i in range(warm + stalled):
        if i >= warm:
            if queued and not select.select([s], [], [], 10)[0]:
                break
            time.sleep(stall)
        s.recv(65536)
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
