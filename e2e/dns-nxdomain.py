"""A DNS server on loopback UDP that answers every query at once with NXDOMAIN.

e2e/with-server points `mxspool serve` at it (MXSPOOL_DNS_SERVERS), so that DNS checks and
lookups of the made-up names the e2e runs create get a quick "no such name" instead of waiting
for a timeout, and no query leaves the machine.

Usage: python3 dns-nxdomain.py PORT_FILE
Binds 127.0.0.1 on a free port, writes the port to PORT_FILE, then serves until killed.
"""

from __future__ import annotations

import socket
import struct
import sys
from pathlib import Path

NXDOMAIN = 3


def answer(query: bytes) -> bytes | None:
    """The NXDOMAIN reply to `query` (its id and question echoed), or None for non-queries."""
    if len(query) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000:  # a response, not a query
        return None
    opcode = flags & 0x7800
    recursion_desired = flags & 0x0100
    # QR, the query's opcode and RD, RA, RCODE; the question section is echoed as it came.
    reply_flags = 0x8000 | opcode | recursion_desired | 0x0080 | NXDOMAIN
    question = query[12:] if qdcount == 1 else b""
    # EDNS records (in the additional section) are dropped: cut the question after its QTYPE
    # and QCLASS.
    if question:
        end = 0
        while end < len(question) and question[end] != 0:
            end += 1 + question[end]
        question = question[: end + 5]
    return struct.pack("!HHHHHH", ident, reply_flags, 1 if question else 0, 0, 0, 0) + question


def main() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    Path(sys.argv[1]).write_text(str(sock.getsockname()[1]))
    while True:
        query, peer = sock.recvfrom(4096)
        reply = answer(query)
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
