# bench/conn-churn.py N: N loopback TCP connections of 1,000 bytes each, one after another, to a server
# in the same process (port 18777): what per-connection hooks cost (bpf_stats), not packets.
import socket, threading, sys
n = int(sys.argv[1])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 18777)); s.listen(64)
def serve():
    for _ in range(n):
        c, _ = s.accept()
        while c.recv(65536): pass
        c.close()
t = threading.Thread(target=serve); t.start()
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", 18777)); c.sendall(b"x" * 1000); c.close()
t.join()
