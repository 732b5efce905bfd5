#!/usr/bin/env python3
"""Print the whitelist report of a domain: the relay's egress addresses and paste-ready
allow-list snippets for the primary mail server's filters.

    MXSPOOL_URL=http://127.0.0.1:8080 MXSPOOL_TOKEN=mxs_... python3 whitelist_report.py example.com
"""

import os
import sys

from mxspool_client import AuthenticatedClient
from mxspool_client.api.domains import list_domains
from mxspool_client.models import DomainPage


def main(name: str) -> int:
    client = AuthenticatedClient(base_url=os.environ["MXSPOOL_URL"], token=os.environ["MXSPOOL_TOKEN"])
    found = list_domains.sync(client=client, name=name)
    if not isinstance(found, DomainPage) or not found.items:
        print(f"no relay domain {name}", file=sys.stderr)
        return 1
    # GET /api/v1/domains/{id}/whitelist?format=text: the whole report as text to paste from.
    answer = client.get_httpx_client().get(f"/api/v1/domains/{found.items[0].id}/whitelist", params={"format": "text"})
    if answer.status_code != 200:
        print(f"no whitelist report ({answer.status_code}): {answer.text}", file=sys.stderr)
        return 1
    print(answer.text)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
