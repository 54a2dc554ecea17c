"""Hostile peers for LogSafetyIT: text an attacker controls, sent where netwatcher reads it.

hostile.py http-server PORT        answers every request with 200, prints "ready"
hostile.py http-client HOST PORT   one request with escape sequences, bytes that are not
                                   UTF-8, a secret in the query and in Authorization/Cookie
hostile.py dns-server PORT         echoes every query back as a response, prints "ready"
hostile.py dns-client HOST PORT    two queries: labels with escapes, newlines and non-UTF-8
                                   bytes, and a name longer than DNS allows
Clients name their own task with control characters (/proc/self/comm) and print "ok".
"""
import socket
import struct
import sys

COMM = b"ev\x1bil\nx\x07"

HTTP_REQUEST = (b"GET /a\x1b[2J\x9b31m\xff\xfe/b?token=SECRET123&x=\x07 HTTP/1.1\r\n"
                b"Host: ev\x1b]0;pwned\x07il\r\n"
                b"Authorization: Bearer SECRET456\r\n"
                b"Cookie: s=SECRET789\r\n\r\n")


def name_task():
    with open("/proc/self/comm", "wb") as f:
        f.write(COMM)


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def query(qid, labels):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in labels:
        q += bytes([len(label)]) + label
    return q + b"\x00" + struct.pack("!HH", 1, 1)


def main():
    mode = sys.argv[1]
    if mode == "http-server":
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", int(sys.argv[2])))
        s.listen(16)
        print("ready", flush=True)
        while True:
            c, _ = s.accept()
            c.recv(65536)
            c.sendall(b"HTTP/1.1 200 \x1b[2Jok\r\nContent-Length: 2\r\n\r\nok")
            c.close()
    elif mode == "http-client":
        name_task()
        c = socket.socket(family(sys.argv[2]), socket.SOCK_STREAM)
        c.connect((sys.argv[2], int(sys.argv[3])))
        c.sendall(HTTP_REQUEST)
        c.recv(65536)
        c.close()
        print("ok", flush=True)
    elif mode == "dns-server":
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", int(sys.argv[2])))
        print("ready", flush=True)
        while True:
            data, peer = s.recvfrom(65536)
            s.sendto(data[:2] + bytes([data[2] | 0x80]) + data[3:], peer)
    elif mode == "dns-client":
        name_task()
        c = socket.socket(family(sys.argv[2]), socket.SOCK_DGRAM)
        c.settimeout(3)
        c.connect((sys.argv[2], int(sys.argv[3])))
        for qid, labels in ((0x1111, [b"\x1b[2J", b"a\nb", b"\xff\xfe", b"test"]),
                            (0x2222, [b"x" * 63] * 5)):
            c.send(query(qid, labels))
            c.recv(65536)
        print("ok", flush=True)


if __name__ == "__main__":
    main()
