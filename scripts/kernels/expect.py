#!/usr/bin/env python3
"""What each option must report over smoke.sh's traffic (an HTTP exchange over TCP, a UDP flow to a
reading socket, UDP to a closed port, a ping, a DNS-shaped query), checked in the JSON lines netwatcher
printed. Usage: expect.py 'OPTIONS' FILE; prints what was missing, exit 1 if anything was."""
import json
import sys

opts, path = sys.argv[1].split(), sys.argv[2]
events = []
for line in open(path):
    if line.startswith("{"):
        try:
            events.append(json.loads(line))
        except ValueError:
            pass


def has(what, pred):
    return (what, any(pred(e) for e in events))


def layers(e, key="layers_ns"):
    return set((e.get(key) or {}).keys())


def packet(proto, direction, need):
    return has(f"{proto} {direction} packet with layers {'+'.join(sorted(need))}",
               lambda e: e.get("type") == "packet" and e.get("proto") == proto and e.get("dir") == direction
               and need <= layers(e))


checks = []
if not opts:  # the overview
    checks.append(has("overview listing the HTTP server's listener (owner known)",
                      lambda e: e.get("type") == "overview"
                      and any(l.get("sport") == 18080 and l.get("pid") for l in e.get("listeners", []))))
    checks.append(has("overview counting a NO_SOCKET drop",
                      lambda e: e.get("type") == "overview" and (e.get("drops") or {}).get("NO_SOCKET", 0) >= 1))
if "-S" in opts:
    checks.append(has("tcp_state ESTABLISHED", lambda e: e.get("type") == "tcp_state" and e.get("newstate") == "ESTABLISHED"))
if "-k" in opts:
    checks.append(has("drop NO_SOCKET (UDP to a closed port)", lambda e: e.get("type") == "drop" and e.get("reason") == "NO_SOCKET"))
if "-t" in opts:
    checks.append(packet("tcp", "tx", {"transport", "ip", "driver"}))
    checks.append(packet("tcp", "rx", {"driver", "ip", "transport", "socket"}))
if "-u" in opts:
    checks.append(packet("udp", "tx", {"transport", "ip", "driver"}))
    checks.append(packet("udp", "rx", {"driver", "ip", "transport", "socket"}))
if "-I" in opts:
    checks.append(has("icmp echo with request and reply layers", lambda e: e.get("type") == "icmp"
                      and {"driver", "ip"} <= layers(e, "rx_layers_ns") and "ip" in layers(e, "tx_layers_ns")))
if "-n" in opts:
    checks.append(has("netfilter rx through LOCAL_IN", lambda e: e.get("type") == "netfilter" and e.get("dir") == "rx"
                      and "LOCAL_IN" in layers(e, "hooks_ns")))
    checks.append(has("netfilter tx through LOCAL_OUT", lambda e: e.get("type") == "netfilter" and e.get("dir") == "tx"
                      and "LOCAL_OUT" in layers(e, "hooks_ns")))
if "-x" in opts:
    checks.append(has("tcp_conn", lambda e: e.get("type") == "tcp_conn"))
if "-a" in opts:
    checks.append(has("tcp_close", lambda e: e.get("type") == "tcp_close"))
if "-i" in opts:
    checks.append(has("http exchange", lambda e: e.get("type") == "http"))
if "--dns" in opts:
    checks.append(has("dns query and answer", lambda e: e.get("type") == "dns"))
missing = [what for what, ok in checks if not ok]
print("; ".join("missing " + m for m in missing) if missing else f"{len(checks)} checks passed")
sys.exit(1 if missing else 0)
