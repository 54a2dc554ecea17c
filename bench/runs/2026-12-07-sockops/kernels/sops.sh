#!/usr/bin/env bash
# guest: -t with a TCP transfer over loopback; shows the attach lines and the cgroup attachment
cd /work/nwguest/smokeroot
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
uname -r
python3 -c 'import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",18099)); s.listen(4)
while True:
    c,_=s.accept()
    while c.recv(65536): pass
    c.close()' & SP=$!
timeout -s INT 600 ./netwatcher -t --no-logs > /tmp/nw.out 2> /tmp/nw.err & NP=$!
for i in $(seq 1 400); do grep -q attached /tmp/nw.err 2>/dev/null && break; sleep 1; done
bpftool cgroup tree /sys/fs/cgroup 2>&1 | grep -i sock || echo "no sockops attached"
for i in 1 2 3; do python3 -c 'import socket
s=socket.create_connection(("127.0.0.1",18099)); s.sendall(b"x"*30000); s.close()'; done
sleep 2
kill -INT $NP; wait $NP
echo "rc $?"
cat /tmp/nw.err | grep -v "^TIME" | head -30
grep -c ' tx ' /tmp/nw.out
bpftool cgroup tree /sys/fs/cgroup 2>&1 | grep -i sock || echo "after exit: no sockops attached"
kill $SP
