# redis_pipeline.py ADDR PORT N: one connection, N "INCR pipe" commands sent in one write (a pipeline),
# then reads the N integer replies and prints the last one.
import socket, sys
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.connect((addr, port))
s.sendall(b"*2\r\n$4\r\nINCR\r\n$4\r\npipe\r\n" * n)
buf, got = b"", []
while len(got) < n:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
    while b"\r\n" in buf:
        line, buf = buf.split(b"\r\n", 1)
        got.append(line)
s.close()
print(got[-1].decode() if got else "none", flush=True)
