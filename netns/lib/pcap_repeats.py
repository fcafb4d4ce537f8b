#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Find bytes that one TCP connection carried twice at different sequence
numbers: what a receiver that reads the TCP stream as it is (a fallen-back
MPTCP socket) delivers to its application twice. A retransmission at the
same sequence number is TCP's business and is not counted.

  pcap_repeats.py PCAP SRC_ADDR [MIN_PREFIX]

Reads a capture of Ethernet frames (the harness's tcpdump -s 128), takes the
data segments sent from SRC_ADDR, and reports each pair of segments of the
same connection (source port, destination address and port) with the same
length and the same captured payload (at least MIN_PREFIX bytes of it,
default 16) but different sequence numbers, one line each (two connections
that carry the same bytes, as two ssh sessions their version string, are
no repeat):
  repeat: LEN bytes at seq A (t=T1) again at seq B (t=T2)
then "repeats: N". Exit 0; 2 when the file cannot be read.
"""
import ipaddress
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            raise ValueError("not a pcap file")
        magic = head[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        else:
            raise ValueError("not a pcap file")
        nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, _orig = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            yield sec + frac / (1e9 if nano else 1e6), data


def segments(path, src):
    for t, d in frames(path):
        if len(d) < 14:
            continue
        etype = struct.unpack("!H", d[12:14])[0]
        p = d[14:]
        if etype == 0x0800 and len(p) >= 20:
            ihl = (p[0] & 0x0F) * 4
            total = struct.unpack("!H", p[2:4])[0]
            if p[9] != 6 or ipaddress.ip_address(p[12:16]) != src:
                continue
            tcp, tcp_len, dst = p[ihl:], total - ihl, ipaddress.ip_address(p[16:20])
        elif etype == 0x86DD and len(p) >= 40:
            if p[6] != 6 or ipaddress.ip_address(p[8:24]) != src:
                continue
            tcp, tcp_len, dst = p[40:], struct.unpack("!H", p[4:6])[0], ipaddress.ip_address(p[24:40])
        else:
            continue
        if len(tcp) < 20:
            continue
        sport, dport, seq = struct.unpack("!HHI", tcp[0:8])
        doff = (tcp[12] >> 4) * 4
        length = tcp_len - doff
        if length <= 0:
            continue
        yield t, (sport, dst, dport), seq, length, bytes(tcp[doff:])


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__.strip().splitlines()[4].strip(), file=sys.stderr)
        return 64
    try:
        src = ipaddress.ip_address(argv[2])
        min_prefix = int(argv[3]) if len(argv) == 4 else 16
        seen = {}
        repeats = 0
        for t, conn, seq, length, prefix in segments(argv[1], src):
            if len(prefix) < min_prefix:
                continue
            key = (conn, length, prefix)
            first = seen.setdefault(key, (seq, t))
            if first[0] != seq:
                repeats += 1
                print(f"repeat: {length} bytes at seq {first[0]} (t={first[1]:.6f}) again at seq {seq} (t={t:.6f})")
    except (OSError, ValueError) as e:
        print(f"pcap_repeats.py: {argv[1]}: {e}", file=sys.stderr)
        return 2
    print(f"repeats: {repeats}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
