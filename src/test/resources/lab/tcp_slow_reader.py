# tcp_slow_reader.py ADDR PORT DELAY_S: accepts one connection, sleeps DELAY_S, then reads it to the end.
import socket, sys, time
addr, port, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
time.sleep(delay)
total = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    total += len(b)
print(total, flush=True)
