#!/usr/bin/env bash
# Runs inside a guest kernel (see scripts/kernel-matrix): each option of netwatcher for a few
# seconds over loopback traffic (TCP and HTTP, UDP, ping, DNS-shaped UDP), and one line per
# option: "OPTION: ok N events" or "OPTION: FAILED <first error line>".
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
jar=$root/target/netwatcher.jar
secs=${NW_SMOKE_SECS:-6}
echo "kernel $(uname -r)"
python3 -m http.server 18080 --bind 127.0.0.1 >/dev/null 2>&1 & HP=$!
# a UDP flow to a socket that reads (-u's socket layer: two datagrams a round, because on 6.1 the read
# blocked since before the attach is not seen, fexit/udp_recvmsg runs only for calls made after it), and netfilter rules so that LOCAL_IN and
# LOCAL_OUT have entries (-n on kernels before 6.4 times nf_hook_slow(), called only then)
python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 18055))
while True: s.recv(2048)' & UP=$!
nft "add table inet nwsmoke; add chain inet nwsmoke in { type filter hook input priority 0; }; add chain inet nwsmoke out { type filter hook output priority 0; }; add rule inet nwsmoke in counter; add rule inet nwsmoke out counter"
python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 53))
while True:
    q, peer = s.recvfrom(2048)
    s.sendto(q[:2] + bytes([q[2] | 0x80, 0x80]) + q[4:], peer)' & DP=$!   # answers each query (QR set, no records)
# a RESP server on 16379 and a MySQL-protocol server on 13306 (each answers any command: +PONG, an OK
# packet), for -R and -M with their --*-port options; an openssl s_server on 18443 for --tls
python3 -c 'import socket, threading
def serve(port, answer):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", port)); s.listen(8)
    while True:
        c, _ = s.accept()
        while c.recv(4096): c.sendall(answer)
        c.close()
threading.Thread(target=serve, args=(16379, b"+PONG\r\n"), daemon=True).start()
serve(13306, bytes([7, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]))' & PP=$!
tlsdir=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tlsdir/k.pem" -out "$tlsdir/c.pem" \
  -days 1 -subj /CN=smoke.nw.test >/dev/null 2>&1
openssl s_server -accept 18443 -cert "$tlsdir/c.pem" -key "$tlsdir/k.pem" -quiet >/dev/null 2>&1 </dev/null & TP=$!
traffic() {
  for _ in $(seq 1 $((secs * 2))); do
    curl -s -o /dev/null http://127.0.0.1:18080/ 2>/dev/null
    ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1
    python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"x", ("127.0.0.1", 18053)); s.sendto(b"flow", ("127.0.0.1", 18055)); s.sendto(b"flow", ("127.0.0.1", 18055))' 2>/dev/null
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01", ("127.0.0.1", 53))' 2>/dev/null
    # the payload protocols' exchanges only for the options that look at them (python and openssl start slowly under TCG)
    [[ $opts == *-M* || $opts == *-R* ]] && python3 -c 'import socket
for port, req in ((16379, b"*1\r\n$4\r\nPING\r\n"), (13306, bytes([9, 0, 0, 0, 3]) + b"SELECT 1")):
    c = socket.create_connection(("127.0.0.1", port), timeout=2); c.sendall(req); c.recv(64); c.close()' 2>/dev/null
    [[ $opts == *--tls* ]] && openssl s_client -connect 127.0.0.1:18443 -servername smoke.nw.test </dev/null >/dev/null 2>&1
    # --ui: the live view's page and one snapshot of its event stream, as JSON lines (expect.py reads them)
    if [ -n "$ui" ]; then
      curl -s -o /dev/null -w '{"type":"ui_page","status":%{http_code}}\n' "http://$ui/" >>"$out.ui"
      curl -s -N --max-time 2 "http://$ui/events" 2>/dev/null | sed -n 's/^data: //p' | head -1 >>"$out.ui"
    fi
    sleep 0.5
  done
}
sleep 1
run_once() {
  # shellcheck disable=SC2086
  timeout $((secs + 120)) "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:UseAVX=0 -XX:+UseSerialGC -Xmx256m -XX:ErrorFile=/tmp/hs_err_nw_%p.log \
    -jar "$jar" $opts $([[ $opts == *--ui* ]] || echo --json) --no-logs --duration "$secs" >"$out" 2>"$err" &
  NP=$!
  ui=$(sed -n 's/.*--ui \([^ ]*\).*/\1/p' <<<"$opts ")
  for _ in $(seq 1 600); do grep -q 'attached\|error\|failed\|unavailable' "$err" 2>/dev/null && break; kill -0 $NP 2>/dev/null || break; sleep 0.2; done
  traffic
  wait $NP
  rc=$?
  [ -f "$out.ui" ] && cat "$out.ui" >>"$out" && rm -f "$out.ui"   # the live view's lines, after netwatcher's own
  # -w: what tshark reads in the file, as one JSON line (expect.py checks it): frames, frames with netwatcher's
  # comment, UDP datagrams whose payload is "flow" (hex 666c6f77) whole, and tshark's complaints
  if [[ $opts == *" -w "* ]]; then
    local f=${opts#* -w }; f=${f%% *}
    tshark -n -r "$f" -T fields -e frame.comment -e udp.payload -e frame.len -e frame.cap_len 2>"$out.tshark" | python3 -c '
import json, sys
rows = [l.rstrip("\n").split("\t") for l in sys.stdin if l.strip()]
errs = [l for l in open(sys.argv[1]) if l.strip() and not l.startswith("Running as user")]
print(json.dumps({"type": "pcap_file", "frames": len(rows), "commented": sum(r[0].startswith("netwatcher:") for r in rows),
                  "flow": sum(r[1] == "666c6f77" and r[2] == r[3] for r in rows), "complaints": len(errs)}))' "$out.tshark" >>"$out"
    rm -f "$out.tshark" "$f"
  fi
  return $rc
}
all_opts=("" "-S" "-r" "-k" "-e" "-t" "-u" "-I" "-n" "-x" "-a" "--rtt" "-i" "--dns" "-t -u -I --metrics 127.0.0.1:19464"
          "-p" "-t -u -L" "-k -T --stack" "-M --mysql-port 13306" "-R --redis-port 16379" "--tls" "-t -u --sample 2"
          "-t -u -k --ui 127.0.0.1:19466" "-u udp port 18055"
          "-t -u -w /tmp/nwsmoke.pcapng --overwrite")
# NW_SMOKE_SHOW=REGEX: on an incomplete run, print the output lines matching it and the exit summary
# NW_SMOKE_ONLY="OPTIONS": that one run only (e.g. to run a failed option again with a larger NW_SMOKE_SECS);
# several separated by "|" ("-u|-p"); "(overview)" is the run with no option
if [ -n "${NW_SMOKE_ONLY:-}" ]; then
  IFS='|' read -r -a all_opts <<<"$NW_SMOKE_ONLY"
  for i in "${!all_opts[@]}"; do [ "${all_opts[$i]}" = "(overview)" ] && all_opts[$i]=""; done
fi
for opts in "${all_opts[@]}"; do
  out=$(mktemp) err=$(mktemp)
  run_once; rc=$?
  # The guest JVM dies now and then of SIGILL or SIGSEGV a few bytes into a freshly C1-compiled method
  # (a "J" frame: ArrayList.add, Preconditions.checkIndex, Btf.string ...; qemu TCG and code the JIT just
  # wrote; seen with any option, never on this machine's own kernel): run such an option again.
  for retry in 1 2; do
    [ $rc -eq 134 ] && grep -q '^# J ' "$out" 2>/dev/null || break
    echo "${opts:-(overview)}: the JVM died in JIT-compiled code under TCG ($(grep -o -m1 'SIG[A-Z]*' "$out")); run $((retry + 1))"
    rm -f /tmp/hs_err_nw_*.log; run_once; rc=$?
  done
  n=$(wc -l <"$out")
  types=$(python3 -c 'import json,sys,collections; c=collections.Counter(json.loads(l).get("type") for l in open(sys.argv[1]) if l.strip().startswith("{")); print(" ".join(f"{k}={v}" for k,v in sorted(c.items())))' "$out" 2>/dev/null)
  unav=$(grep -c 'unavailable' "$err")
  if [ $rc -ne 0 ]; then echo "${opts:-(overview)}: FAILED rc=$rc $(grep -v '^netwatcher: attached' "$err" | head -2 | tr '\n' ' ' | cut -c1-300)"
    # a JVM fatal error (rc 134) writes its report to stdout and to -XX:ErrorFile
    grep -h -m6 -E '^# +(SIG|Problematic|C  |J |V  |Internal Error|Out of Memory)|^# [A-Z].*\(' "$out" /tmp/hs_err_nw_*.log 2>/dev/null | sed 's/^/    /' 
  elif seen=$(python3 "$root/scripts/kernels/expect.py" "$opts" "$out"); then echo "${opts:-(overview)}: ok rc=0 lines=$n [$types] unavailable-lines=$unav; $seen"
  else echo "${opts:-(overview)}: INCOMPLETE lines=$n [$types] unavailable-lines=$unav; $seen"
    # NW_SMOKE_SHOW=REGEX: the output lines that match it, and the exit summary, to see what was there
    if [ -n "${NW_SMOKE_SHOW:-}" ]; then grep -E "$NW_SMOKE_SHOW" "$out" | cut -c1-400 | sed 's/^/    /'; grep detached "$err" | sed 's/^/    /'; fi
  fi
  grep 'unavailable' "$err" | head -3 | sed 's/^/    /'
  rm -f "$out" "$err"
done
[ -n "${NW_SMOKE_ONLY:-}" ] && { kill $HP $UP $DP $PP $TP 2>/dev/null; nft delete table inet nwsmoke; exit 0; }
# --check: every feature loaded and attached once, one row each; the rows that are not plainly ok are shown
out=$(mktemp)
timeout 600 "$JAVA_HOME/bin/java" -XX:+UseSerialGC -Xmx256m -jar "$jar" -S -k -t -u -I -x --check >"$out" 2>&1; rc=$?
echo "--check: rc=$rc $(tail -1 "$out")"
grep -v -E '^netwatcher: |^FEATURE' "$out" | grep -v -E ' ok +$' | sed 's/^/    /'
rm -f "$out"
kill $HP $UP $DP $PP $TP 2>/dev/null; rm -rf "$tlsdir"
nft delete table inet nwsmoke
