#!/usr/bin/env python3
# Sends one TCP SYN with a wrong checksum from SRC to DST (raw socket): ground truth for tcp_bad_csum.
import socket, struct, sys
src, dst, sport, dport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
# TCP SYN with a deliberately wrong checksum; IP header filled in by the kernel (IPPROTO_TCP raw socket)
tcp = struct.pack('!HHIIBBHHH', sport, dport, 12345, 0, 5 << 4, 0x02, 64240, 0xdead, 0)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.bind((src, 0))
s.sendto(tcp, (dst, 0))
