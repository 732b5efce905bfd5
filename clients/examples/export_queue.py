#!/usr/bin/env python3
"""Export a domain's queue (every recipient still in it, page by page) as CSV or JSON.

    MXSPOOL_URL=http://127.0.0.1:8080 MXSPOOL_TOKEN=mxs_... \
        python3 export_queue.py example.com [--format csv|json] [--state deferred]
"""

import argparse
import csv
import json
import os
import sys

from mxspool_client import AuthenticatedClient
from mxspool_client.api.domains import list_domains
from mxspool_client.api.queue import list_queue
from mxspool_client.models import DeliveryState, DomainPage, QueuePage
from mxspool_client.types import UNSET, Unset

COLUMNS = [
    "id",
    "message_id",
    "recipient",
    "sender",
    "state",
    "attempts",
    "size",
    "received_at",
    "next_attempt_at",
    "expires_at",
    "last_code",
    "last_reply",
    "subject",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("domain")
    parser.add_argument("--format", choices=["csv", "json"], default="csv")
    parser.add_argument("--state", choices=[s.value for s in DeliveryState])
    args = parser.parse_args()
    client = AuthenticatedClient(base_url=os.environ["MXSPOOL_URL"], token=os.environ["MXSPOOL_TOKEN"])

    found = list_domains.sync(client=client, name=args.domain)
    if not isinstance(found, DomainPage) or not found.items:
        print(f"no relay domain {args.domain}", file=sys.stderr)
        return 1
    domain_id = found.items[0].id

    rows: list[dict[str, object]] = []
    cursor: str | Unset = UNSET
    while True:
        page = list_queue.sync(
            client=client,
            domain_id=domain_id,
            state=DeliveryState(args.state) if args.state else UNSET,
            limit=500,
            cursor=cursor,
        )
        if not isinstance(page, QueuePage):
            print(f"listing the queue failed: {getattr(page, 'detail', page)}", file=sys.stderr)
            return 1
        rows.extend({c: item.to_dict().get(c) for c in COLUMNS} for item in page.items)
        if not page.next_cursor:
            break
        cursor = page.next_cursor

    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
