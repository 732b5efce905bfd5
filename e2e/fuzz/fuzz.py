"""Fuzz the served OpenAPI spec with schemathesis, once as an operator and once as a customer.

Runs under e2e/with-server, which provides a fresh `mxspool serve` (MXSPOOL_E2E_URL) and its
operator's credentials. Before fuzzing it gives the server something to show: a customer with
domains, a domain of the operator's, and a message queued for each through the SMTP port (their
targets are closed loopback ports, so the mail stays queued). Then it runs the pinned schemathesis
with every check, a fixed seed and a bounded number of examples per operation; any failure fails
the run (there is no list of excused findings: fix the server or the spec).
Reports (JUnit XML and the run's NDJSON events) go to $E2E_ARTIFACTS (target/artifacts/).

Usage: python fuzz.py [--max-examples N] [--seed N] [--as admin|customer ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


class Api:
    """A tiny JSON client for the set-up calls; every unexpected status stops the run."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body: object | None = None, expect: int = 200) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        if status != expect:
            raise SystemExit(f"set-up: {method} {path} answered {status}, expected {expect}: {text}")
        return json.loads(text) if text else None

    def login(self, email: str, password: str) -> str:
        answer = self.call("POST", "/api/v1/auth/login", {"email": email, "password": password})
        assert isinstance(answer, dict)
        return answer["access_token"]


def closed_port() -> int:
    """A loopback port nothing listens on, so mail for it stays in the queue."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smtp_address(log: Path) -> tuple[str, int]:
    match = re.search(r"^SMTP:\s+(\S+):(\d+)$", log.read_text(), re.MULTILINE)
    if not match:
        raise SystemExit(f"set-up: no SMTP address in {log}")
    return match.group(1), int(match.group(2))


def queue_message(smtp: tuple[str, int], recipient: str) -> None:
    """Sends one message; retried for a while, as the relay learns of new domains within a second."""
    deadline = time.monotonic() + 15
    while True:
        try:
            send_message(smtp, recipient)
            return
        except smtplib.SMTPException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def send_message(smtp: tuple[str, int], recipient: str) -> None:
    message = EmailMessage()
    message["From"] = "sender@example.org"
    message["To"] = recipient
    message["Subject"] = "queued while the primary is down"
    message.set_content("Kept by the backup MX until the primary answers.\n")
    with smtplib.SMTP(*smtp, local_hostname="client.example.org", timeout=30) as client:
        client.send_message(message)


def prepare(base: str, admin_email: str, admin_password: str) -> dict[str, str]:
    """Accounts, domains and queued mail for both runs; returns a bearer token per role."""
    admin = Api(base, Api(base).login(admin_email, admin_password))
    customer_email = "customer@fuzz.mxspool.test"
    customer_password = "customer " + secrets.token_hex(8)
    admin.call(
        "POST",
        "/api/v1/accounts",
        {
            "email": customer_email,
            "password": customer_password,
            "role": "customer",
            "max_domains": 50,
            "may_create_domain_admins": True,
        },
        expect=201,
    )
    customer = Api(base, Api(base).login(customer_email, customer_password))
    smtp = smtp_address(Path(os.environ["MXSPOOL_E2E_LOG"]))
    names = ("customer.fuzz.example", "operator.fuzz.example")
    for api, name in zip((customer, admin), names):
        api.call(
            "POST",
            "/api/v1/domains",
            {"name": name, "target_host": "127.0.0.1", "target_port": closed_port()},
            expect=201,
        )
    for name in names:
        queue_message(smtp, f"postmaster@{name}")
    return {"admin": admin.token or "", "customer": customer.token or ""}


def fuzz(base: str, role: str, token: str, args: argparse.Namespace, artifacts: Path) -> int:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    command = [
        str(schemathesis),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{base}/api-docs/openapi.json",
        "--checks",
        "all",
        "--seed",
        str(args.seed),
        # No example database: every run starts from the seed alone.
        "--generation-database",
        "none",
        "--max-examples",
        str(args.max_examples),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(artifacts),
        "--report-junit-path",
        str(artifacts / f"schemathesis-{role}.xml"),
        "--report-ndjson-path",
        str(artifacts / f"schemathesis-{role}.ndjson"),
    ]
    print(f"\n--- schemathesis as {role}", flush=True)
    started = time.monotonic()
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "SCHEMATHESIS_HOOKS": os.environ.get("E2E_HOOKS", "hooks"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    # schemathesis keeps state in its working directory; keep that out of the source tree.
    status = subprocess.run(command, check=False, env=env, cwd=artifacts).returncode
    print(f"--- schemathesis as {role}: exit {status} after {time.monotonic() - started:.0f} s", flush=True)
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("E2E_FUZZ_EXAMPLES", "10")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("E2E_FUZZ_SEED", "20261128")))
    parser.add_argument("--as", dest="roles", action="append", choices=["admin", "customer"])
    args = parser.parse_args()
    roles = args.roles or ["customer", "admin"]
    base = os.environ["MXSPOOL_E2E_URL"]
    artifacts = Path(os.environ.get("E2E_ARTIFACTS", REPO / "target" / "artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    tokens = prepare(base, os.environ["MXSPOOL_E2E_ADMIN_EMAIL"], os.environ["MXSPOOL_E2E_ADMIN_PASSWORD"])
    # The customer runs first: the operator's run may change or delete the customer's objects.
    failed = [role for role in roles if fuzz(base, role, tokens[role], args, artifacts) != 0]
    if failed:
        print(f"schemathesis found failures as: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
