"""A real mxspool for the SDK tests: its own PostgreSQL database, loopback ports, a known operator.

The binary is ``target/debug/mxspool`` (or ``$MXSPOOL_BIN``); PostgreSQL is reached as
``$MXSPOOL_TEST_PG`` (default ``postgres://postgres@127.0.0.1:5432``). One server serves the
whole test session; the database is dropped when the session ends.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from mxspool_client import AuthenticatedClient, Client
from mxspool_client.api.auth import login
from mxspool_client.models import LoginRequest, TokenResponse

REPO = Path(__file__).resolve().parents[3]
ADMIN_EMAIL = "operator@mxspool.test"
ADMIN_PASSWORD = "operator password " + secrets.token_hex(8)


def _target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))


def pg_url(database: str) -> str:
    base = os.environ.get("MXSPOOL_TEST_PG", "postgres://postgres@127.0.0.1:5432")
    return f"{base.rstrip('/')}/{database}"


def _psql_admin(sql: str) -> None:
    subprocess.run(
        ["psql", pg_url("postgres"), "-v", "ON_ERROR_STOP=1", "-qtAc", sql],
        check=True,
        capture_output=True,
    )


def closed_port() -> int:
    """A loopback port nothing listens on: the target of domains whose mail must stay queued."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base_url: str
    smtp_host: str
    smtp_port: int
    database: str
    output: list[str] = field(default_factory=list)

    def client(self, token: str | None = None) -> Client | AuthenticatedClient:
        if token is None:
            return Client(base_url=self.base_url, raise_on_unexpected_status=True)
        return AuthenticatedClient(base_url=self.base_url, token=token, raise_on_unexpected_status=True)

    def login(self, email: str, password: str) -> TokenResponse:
        answer = login.sync(client=self.client(), body=LoginRequest(email=email, password=password))
        assert isinstance(answer, TokenResponse), answer
        return answer


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    binary = Path(os.environ.get("MXSPOOL_BIN", _target_dir() / "debug" / "mxspool"))
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `cargo build --locked` first (clients/run-tests does)")
    database = "mxspool_sdk_py_" + secrets.token_hex(6)
    _psql_admin(f'CREATE DATABASE "{database}"')
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": pg_url(database),
        "MXSPOOL_HTTP_ADDR": "127.0.0.1:0",
        "MXSPOOL_SMTP_ADDR": "127.0.0.1:0",
        "MXSPOOL_HOSTNAME": "mx.test",
        "MXSPOOL_ADMIN_EMAIL": ADMIN_EMAIL,
        "MXSPOOL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MXSPOOL_ALLOW_PRIVATE_TARGETS": "true",
        "MXSPOOL_BOUNCES": "log",
        # Name lookups go to a loopback port where nothing answers, never to the outside, and
        # the whitelist report names the address the relay really sends from here.
        "MXSPOOL_DNS_SERVERS": f"127.0.0.1:{closed_port()}",
        "MXSPOOL_EGRESS_IPS": "127.0.0.1",
        "RUST_LOG": "error",
    }
    proc = subprocess.Popen(
        [str(binary), "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("OpenAPI:"):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(60):
            pytest.fail("mxspool serve did not start:\n" + "\n".join(lines))

        def after(prefix: str) -> str:
            return next(line for line in lines if line.startswith(prefix)).split()[1]

        base_url = after("API:").removesuffix("/api/v1")
        smtp_host, smtp_port = after("SMTP:").rsplit(":", 1)
        deadline = time.monotonic() + 30
        while httpx.get(f"{base_url}/readyz").status_code != 200:
            assert time.monotonic() < deadline, "mxspool never became ready"
            time.sleep(0.2)
        yield Server(base_url, smtp_host, int(smtp_port), database, lines)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _psql_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def admin_token(server: Server) -> str:
    return server.login(ADMIN_EMAIL, ADMIN_PASSWORD).access_token


@pytest.fixture(scope="session")
def admin(server: Server, admin_token: str) -> AuthenticatedClient:
    client = server.client(admin_token)
    assert isinstance(client, AuthenticatedClient)
    return client
