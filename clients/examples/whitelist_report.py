#!/usr/bin/env python3
"""Print the whitelist report of a domain: the addresses mxspool sends from, how the domain's
primary mail server treats them, and paste-ready allow-list snippets for its filters.

    MXSPOOL_URL=http://127.0.0.1:8080 MXSPOOL_TOKEN=mxs_... \
        python3 whitelist_report.py example.com [--snippet postfix]

With --snippet only that filter's text is printed (postfix, exim, rspamd, spamassassin,
microsoft365, nftables, iptables), ready to redirect into a file.
"""

import argparse
import os
import sys

from mxspool_client import AuthenticatedClient
from mxspool_client.api.domains import domain_whitelist_report, list_domains
from mxspool_client.models import DomainPage, WhitelistReport


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("domain")
    parser.add_argument("--snippet", metavar="ID")
    args = parser.parse_args()
    client = AuthenticatedClient(base_url=os.environ["MXSPOOL_URL"], token=os.environ["MXSPOOL_TOKEN"])

    found = list_domains.sync(client=client, name=args.domain)
    if not isinstance(found, DomainPage) or not found.items:
        print(f"no relay domain {args.domain}", file=sys.stderr)
        return 1
    report = domain_whitelist_report.sync(found.items[0].id, client=client)
    if not isinstance(report, WhitelistReport):
        print(f"no whitelist report: {getattr(report, 'detail', report)}", file=sys.stderr)
        return 1

    if args.snippet:
        wanted = [s for s in report.snippets if s.id == args.snippet]
        if not wanted:
            known = ", ".join(s.id for s in report.snippets)
            print(f"no snippet {args.snippet!r}; there are: {known}", file=sys.stderr)
            return 1
        print(wanted[0].text)
        return 0

    domain = report.domain
    print(f"Whitelist report for {domain.domain} (primary {domain.target_host}:{domain.target_port})")
    print(f"Backup MX: {report.backup_mx_hostname}")
    print("\nAllow these addresses on the primary:")
    for egress in report.egress:
        ptr = f"PTR {egress.ptr}" if isinstance(egress.ptr, str) else "no PTR"
        confirmed = " (forward-confirmed)" if egress.forward_confirmed else ""
        print(f"  {egress.cidr:<24} {ptr}{confirmed}")
    if isinstance(report.egress_problem, str):
        print(f"  ({report.egress_problem})")
    print(f"\nHow the primary treats them (last {report.recent_days} days):")
    for address in domain.addresses:
        print(f"  {address.ip:<24} {address.verdict.value:<10} {address.reason}")
    for snippet in report.snippets:
        print(f"\n== {snippet.label} ==\n{snippet.instructions}\n\n{snippet.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
