"""The automation scripts in clients/examples, run as a user would run them, against the real server."""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
from pathlib import Path

from conftest import Server, closed_port
from test_sdk import send_mail, wait_for

from mxspool_client import AuthenticatedClient
from mxspool_client.api.domains import create_domain, list_domains
from mxspool_client.api.queue import list_queue
from mxspool_client.models import CreateDomain, DeliveryState, DomainPage, DomainView, QueuePage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(server: Server, token: str, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MXSPOOL_URL": server.base_url, "MXSPOOL_TOKEN": token}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], env=env, capture_output=True, text=True, timeout=120
    )


def find_domain(client: AuthenticatedClient, name: str) -> DomainView | None:
    page = list_domains.sync(client=client, name=name)
    assert isinstance(page, DomainPage)
    return page.items[0] if page.items else None


def test_bulk_add_adds_every_row_skips_known_domains_and_reports_refusals(
    server: Server, admin: AuthenticatedClient, admin_token: str, tmp_path: Path
):
    tag = secrets.token_hex(4)
    known = create_domain.sync(client=admin, body=CreateDomain(name=f"known-{tag}.example", target_host="127.0.0.1"))
    assert isinstance(known, DomainView)
    port = closed_port()
    sheet = tmp_path / "domains.csv"
    sheet.write_text(
        "name,target_host,target_port\n"
        f"one-{tag}.example,127.0.0.1,{port}\n"
        f"Two-{tag}.Example.,127.0.0.2,\n"
        f"known-{tag}.example,127.0.0.1,\n"
        f"-bad-{tag}.example,127.0.0.1,\n"
    )
    done = run_example(server, admin_token, "bulk_add_domains.py", str(sheet))

    assert done.returncode == 1, done
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"added one-{tag}.example (id ")
    assert lines[1].startswith(f"added two-{tag}.example (id ")
    assert lines[2] == f"exists known-{tag}.example"
    assert f"refused -bad-{tag}.example" in done.stderr and "name:" in done.stderr

    one = find_domain(admin, f"one-{tag}.example")
    assert one is not None and (one.target_host, one.target_port) == ("127.0.0.1", port)
    two = find_domain(admin, f"two-{tag}.example")
    assert two is not None and (two.target_host, two.target_port) == ("127.0.0.2", 25)


def test_export_queue_writes_the_domains_recipients_as_csv_and_json(
    server: Server, admin: AuthenticatedClient, admin_token: str
):
    name = f"export-{secrets.token_hex(4)}.example"
    domain = create_domain.sync(
        client=admin, body=CreateDomain(name=name, target_host="127.0.0.1", target_port=closed_port())
    )
    assert isinstance(domain, DomainView)
    recipients = [f"user{n}@{name}" for n in range(3)]
    send_mail(server, "exports@sender.test", recipients, "to export")
    wait_for(
        lambda: (
            (page := list_queue.sync(client=admin, domain_id=domain.id, state=DeliveryState.DEFERRED))
            and isinstance(page, QueuePage)
            and len(page.items) == 3
        ),
        "three deferred recipients",
    )

    as_csv = run_example(server, admin_token, "export_queue.py", name, "--format", "csv")
    assert as_csv.returncode == 0, as_csv
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert sorted(r["recipient"] for r in rows) == recipients
    assert {(r["sender"], r["state"], r["subject"]) for r in rows} == {("exports@sender.test", "deferred", "to export")}

    as_json = run_example(server, admin_token, "export_queue.py", name, "--format", "json", "--state", "deferred")
    assert as_json.returncode == 0, as_json
    items = json.loads(as_json.stdout)
    assert sorted(i["recipient"] for i in items) == recipients
    assert all(isinstance(i["message_id"], int) and i["attempts"] >= 1 for i in items)

    held = run_example(server, admin_token, "export_queue.py", name, "--format", "json", "--state", "held")
    assert held.returncode == 0 and json.loads(held.stdout) == []

    unknown = run_example(server, admin_token, "export_queue.py", f"missing-{name}")
    assert unknown.returncode == 1 and "no relay domain" in unknown.stderr


def test_flush_when_back_waits_for_a_greeting_then_flushes(
    server: Server, admin: AuthenticatedClient, admin_token: str
):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    name = f"back-{secrets.token_hex(4)}.example"
    domain = create_domain.sync(client=admin, body=CreateDomain(name=name, target_host="127.0.0.1", target_port=port))
    assert isinstance(domain, DomainView)

    # Bound but not listening: connections are refused, so the primary is still down.
    down = run_example(server, admin_token, "flush_when_back.py", name, "--interval", "0.1", "--timeout", "0.5")
    assert down.returncode == 2, down
    assert f"127.0.0.1:{port} is still down" in down.stderr

    # Now it greets like an SMTP server (and hangs up on anything else).
    listener.listen()

    def greet() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"220 primary.test ESMTP\r\n")

    threading.Thread(target=greet, daemon=True).start()
    try:
        back = run_example(server, admin_token, "flush_when_back.py", name, "--interval", "0.1", "--timeout", "30")
    finally:
        listener.close()
    assert back.returncode == 0, back
    assert back.stdout.startswith(f"{name}: 127.0.0.1:{port} is back; ")
    assert "waiting recipients are due now" in back.stdout


def test_whitelist_report_prints_addresses_verdicts_and_snippets(
    server: Server, admin: AuthenticatedClient, admin_token: str
) -> None:
    name = f"allow-{secrets.token_hex(4)}.example"
    port = closed_port()
    domain = create_domain.sync(client=admin, body=CreateDomain(name=name, target_host="127.0.0.1", target_port=port))
    assert isinstance(domain, DomainView)

    report = run_example(server, admin_token, "whitelist_report.py", name)
    assert report.returncode == 0, report
    lines = report.stdout.splitlines()
    assert lines[0] == f"Whitelist report for {name} (primary 127.0.0.1:{port})"
    assert lines[1] == "Backup MX: mx.test"
    assert any(line.strip().startswith("127.0.0.1/32") for line in lines)
    assert any(line.split()[:2] == ["127.0.0.1", "unknown"] for line in lines if line.startswith("  127.0.0.1 "))
    assert "== Postfix ==" in lines

    postfix = run_example(server, admin_token, "whitelist_report.py", name, "--snippet", "postfix")
    assert postfix.returncode == 0, postfix
    assert "127.0.0.1" in postfix.stdout
    assert "== Postfix ==" not in postfix.stdout

    unknown = run_example(server, admin_token, "whitelist_report.py", name, "--snippet", "sendmail")
    assert unknown.returncode == 1
    assert "there are: " in unknown.stderr and "postfix" in unknown.stderr
