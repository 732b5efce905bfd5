#!/usr/bin/env python3
"""Add relay domains listed in a CSV file.

    MXSPOOL_URL=http://127.0.0.1:8080 MXSPOOL_TOKEN=mxs_... python3 bulk_add_domains.py domains.csv

The CSV has a header row with `name` and `target_host`, and optionally `target_port` and
`owner_id`. A domain that is already registered is reported and skipped; any other refusal is
printed with the server's reason and makes the exit code 1.
"""

import csv
import os
import sys

from mxspool_client import AuthenticatedClient
from mxspool_client.api.domains import create_domain
from mxspool_client.models import CreateDomain, DomainView, Problem
from mxspool_client.types import UNSET


def main(path: str) -> int:
    client = AuthenticatedClient(base_url=os.environ["MXSPOOL_URL"], token=os.environ["MXSPOOL_TOKEN"])
    failed = 0
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            body = CreateDomain(
                name=row["name"].strip(),
                target_host=row["target_host"].strip(),
                target_port=int(row["target_port"]) if row.get("target_port") else UNSET,
                owner_id=int(row["owner_id"]) if row.get("owner_id") else UNSET,
            )
            answer = create_domain.sync(client=client, body=body)
            if isinstance(answer, DomainView):
                print(f"added {answer.name} (id {answer.id})")
            elif isinstance(answer, Problem) and answer.status == 409:
                print(f"exists {body.name}")
            elif isinstance(answer, Problem):
                failed += 1
                fields = "; ".join(f"{e.field}: {e.message}" for e in answer.errors or [])
                print(f"refused {body.name}: {answer.detail}" + (f" ({fields})" if fields else ""), file=sys.stderr)
            else:
                failed += 1
                print(f"refused {body.name}: no answer", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
