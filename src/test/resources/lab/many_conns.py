"""Many TCP connections for the overview's bounded tables.

server PORT: listens on PORT, prints "ready", accepts and holds every connection, reading what
  each sends, until stdin closes.
client HOST PORT N: opens N connections; connection i (1..N) sends i*10 bytes; prints "done"
  and holds them until stdin closes.
"""
import socket
import sys
import threading

if sys.argv[1] == "server":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[2])))
    s.listen(1024)
    held = []

    def serve():
        while True:
            c, _ = s.accept()
            held.append(c)
            threading.Thread(target=lambda c=c: [None for _ in iter(lambda: c.recv(65536), b"")], daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
else:
    host, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    conns = []
    for i in range(1, n + 1):
        c = socket.create_connection((host, port))
        c.sendall(b"x" * (i * 10))
        conns.append(c)
    print("done", flush=True)
    sys.stdin.read()
