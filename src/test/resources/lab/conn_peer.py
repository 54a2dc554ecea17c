"""TCP peers for ConnIT, with byte counts the test knows.

server PORT BACKLOG: listens on [::]:PORT (IPv4 too) with the given backlog, prints
  "ready", and accepts only after a line "accept" on stdin. Each accepted connection
  reads until the client has sent its bytes (first 8 bytes: how many follow), then
  sends REPLY bytes back and waits for the client to close.
client HOST PORT SPORT NBYTES: connects from SPORT, sends NBYTES (plus an 8-byte
  length), reads the REPLY bytes, prints "done", then closes when stdin says "close".
  NBYTES 0: only connects, prints "done", waits for "close".
"""
import socket
import struct
import sys
import threading

REPLY = 3000


def serve(conn):
    with conn:
        head = b""
        while len(head) < 8:
            chunk = conn.recv(8 - len(head))
            if not chunk:
                return
            head += chunk
        left = struct.unpack("!Q", head)[0]
        while left > 0:
            chunk = conn.recv(min(left, 65536))
            if not chunk:
                return
            left -= len(chunk)
        conn.sendall(b"r" * REPLY)
        while conn.recv(65536):
            pass


def server(port, backlog):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(backlog)
    print("ready", flush=True)
    sys.stdin.readline()  # "accept"
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def client(host, port, sport, nbytes):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    c = socket.socket(family, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", sport))
    c.connect((host, port))
    if nbytes > 0:
        c.sendall(struct.pack("!Q", nbytes - 8) + b"s" * (nbytes - 8))
        got = 0
        while got < REPLY:
            chunk = c.recv(65536)
            if not chunk:
                break
            got += len(chunk)
    print("done", flush=True)
    sys.stdin.readline()  # "close"
    c.close()
    print("closed", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), int(sys.argv[3]))
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
