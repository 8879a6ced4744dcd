"""A minimal reader of classic libpcap files: the UDP payloads of IPv4 packets (tests only)."""

from __future__ import annotations

import struct
from pathlib import Path


def udp_payloads(path: Path) -> list[tuple[float, bytes]]:
    """(capture time s, UDP payload) for every IPv4/UDP packet in a pcap file."""
    data = path.read_bytes()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    (linktype,) = struct.unpack_from(endian + "I", data, 20)
    out: list[tuple[float, bytes]] = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack_from(endian + "IIII", data, off)
        frame = data[off + 16 : off + 16 + incl]
        off += 16 + incl
        ip = frame[14:] if linktype == 1 else frame[16:] if linktype == 113 else frame
        if linktype == 1 and frame[12:14] == b"\x81\x00":  # VLAN tag
            ip = frame[18:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        udp = ip[ihl:]
        (length,) = struct.unpack_from("!H", udp, 4)
        out.append((sec + frac / (1e9 if nano else 1e6), bytes(udp[8:length])))
    return out
