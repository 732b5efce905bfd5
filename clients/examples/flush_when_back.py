#!/usr/bin/env python3
"""Wait until a domain's primary mail server answers SMTP again, then flush the domain's queue.

    MXSPOOL_URL=http://127.0.0.1:8080 MXSPOOL_TOKEN=mxs_... \
        python3 flush_when_back.py example.com [--interval 5] [--timeout 3600]

mxspool probes a down primary by itself (backing off to once a minute); run this after
maintenance to send the waiting mail the moment the primary greets with 220. Exit code 0 after
a flush, 2 when the primary was still down at the timeout.
"""

import argparse
import os
import socket
import sys
import time

from mxspool_client import AuthenticatedClient
from mxspool_client.api.domains import list_domains
from mxspool_client.api.queue import flush_domain
from mxspool_client.models import DomainFlushResult, DomainPage


def greets(host: str, port: int) -> bool:
    """Whether an SMTP server at host:port answers with a 220 greeting."""
    try:
        with socket.create_connection((host, port), timeout=10) as s:
            s.settimeout(10)
            return s.recv(512).startswith(b"220")
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("domain")
    parser.add_argument("--interval", type=float, default=5)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    client = AuthenticatedClient(base_url=os.environ["MXSPOOL_URL"], token=os.environ["MXSPOOL_TOKEN"])

    found = list_domains.sync(client=client, name=args.domain)
    if not isinstance(found, DomainPage) or not found.items:
        print(f"no relay domain {args.domain}", file=sys.stderr)
        return 1
    domain = found.items[0]

    deadline = time.monotonic() + args.timeout
    while not greets(domain.target_host, domain.target_port):
        if time.monotonic() >= deadline:
            print(f"{domain.target_host}:{domain.target_port} is still down", file=sys.stderr)
            return 2
        time.sleep(args.interval)

    result = flush_domain.sync(client=client, id=domain.id)
    if not isinstance(result, DomainFlushResult):
        print(f"flush failed: {getattr(result, 'detail', result)}", file=sys.stderr)
        return 1
    print(
        f"{domain.name}: {domain.target_host}:{domain.target_port} is back; "
        f"{result.affected} of {result.matched} waiting recipients are due now"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
