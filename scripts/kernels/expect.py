#!/usr/bin/env python3
"""What each option must report over smoke.sh's traffic (an HTTP exchange over TCP, a UDP flow to a
reading socket, UDP to a closed port, a ping, a DNS-shaped query), checked in the JSON lines netwatcher
printed. Usage: expect.py 'OPTIONS' FILE; prints what was missing, exit 1 if anything was."""
import json
import sys

opts, path = sys.argv[1].split(), sys.argv[2]
if "--ui" in opts:  # the live view replaces the console: only its page and snapshots are there to check
    opts = ["--ui"]
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
if "-p" in opts:
    checks.append(has("proto_share counting IPv4 on lo", lambda e: e.get("type") == "proto_share"))
if "-L" in opts:
    checks.append(has("time_load rows of the rx socket layer", lambda e: e.get("type") == "time_load"
                      and e.get("dir") == "rx" and e.get("layer") == "socket" and e.get("packets", 0) >= 1))
if "-T" in opts:
    checks.append(has("drop location as function+0xoffset", lambda e: e.get("type") == "drop" and "+0x" in (e.get("location") or "")))
if "--stack" in opts:
    checks.append(has("drop with a kernel stack", lambda e: e.get("type") == "drop" and len(e.get("stack") or []) >= 2))
if "-M" in opts:
    checks.append(has("mysql query SELECT 1 answered ok", lambda e: e.get("type") == "mysql" and e.get("query") == "SELECT 1"
                      and e.get("outcome") == "ok"))
if "-R" in opts:
    checks.append(has("redis PING answered", lambda e: e.get("type") == "redis" and e.get("command") == "PING"))
if "--tls" in opts:
    checks.append(has("tls handshake naming smoke.nw.test", lambda e: e.get("type") == "tls" and e.get("sni") == "smoke.nw.test"))
if "--ui" in opts:
    checks.append(has("the live view's page (HTTP 200)", lambda e: e.get("type") == "ui_page" and e.get("status") == 200))
    checks.append(has("a live-view snapshot with rx layers", lambda e: "layers" in e and (e["layers"].get("rx") or {}).get("stack")))
if "port" in opts and "18055" in opts:  # the filter expression run: only the UDP flow to 18055, with its layers
    checks.append(has("nothing but the expression's packets (udp port 18055)", lambda e: True) if not any(
        e.get("type") == "packet" and not (e.get("proto") == "udp" and 18055 in (e.get("sport"), e.get("dport")))
        for e in events) else ("nothing but the expression's packets (udp port 18055)", False))
if "-w" in opts:  # the file, as tshark read it (smoke.sh's pcap_file line)
    checks.append(has("a pcapng file tshark reads without complaint, each frame with its comment, the 'flow' datagrams whole",
                      lambda e: e.get("type") == "pcap_file" and e["complaints"] == 0 and e["frames"] > 0
                      and e["commented"] == e["frames"] and (e["flow"] > 0 or "-u" not in opts)))
missing = [what for what, ok in checks if not ok]
print("; ".join("missing " + m for m in missing) if missing else f"{len(checks)} checks passed")
sys.exit(1 if missing else 0)
