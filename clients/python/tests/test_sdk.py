"""The Python SDK against a real mxspool: every call goes over HTTP to the server in conftest."""

from __future__ import annotations

import secrets
import smtplib
import time
from email.message import EmailMessage

from conftest import ADMIN_EMAIL, Server, closed_port

from mxspool_client import AuthenticatedClient
from mxspool_client.api.accounts import create_account
from mxspool_client.api.api_keys import create_api_key, list_api_keys
from mxspool_client.api.auth import me
from mxspool_client.api.domains import create_domain, dns_instructions, get_domain, list_domains
from mxspool_client.api.queue import flush_domain, hold_message, list_queue, release_message
from mxspool_client.models import (
    AccountView,
    ApiKeyPage,
    CreateAccount,
    CreateApiKey,
    CreatedApiKey,
    CreateDomain,
    DeliveryState,
    DomainFlushResult,
    DomainPage,
    DomainView,
    Problem,
    QueueActionResult,
    QueueItem,
    QueuePage,
    Role,
    Scope,
)
from mxspool_client.types import UNSET, Unset


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}.example"


def add_domain(client: AuthenticatedClient, name: str | None = None, **fields) -> DomainView:
    body = CreateDomain(name=name or unique("relay"), target_host="127.0.0.1", target_port=closed_port(), **fields)
    domain = create_domain.sync(client=client, body=body)
    assert isinstance(domain, DomainView), domain
    return domain


def new_customer(server: Server, admin: AuthenticatedClient, **plan) -> tuple[AccountView, str]:
    email = f"{secrets.token_hex(4)}@customer.test"
    password = "customer password " + secrets.token_hex(4)
    account = create_account.sync(
        client=admin, body=CreateAccount(email=email, password=password, role=Role.CUSTOMER, **plan)
    )
    assert isinstance(account, AccountView), account
    return account, server.login(email, password).access_token


def send_mail(server: Server, sender: str, recipients: list[str], subject: str) -> None:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg.set_content("Relayed while the primary is down.\n")
    # The relay reloads its domain table within a second of an API change; until then a new
    # domain's recipients are refused like any stranger's.
    deadline = time.monotonic() + 10
    while True:
        try:
            with smtplib.SMTP(server.smtp_host, server.smtp_port, local_hostname="sender.test", timeout=30) as smtp:
                refused = smtp.send_message(msg, from_addr=sender, to_addrs=recipients)
            break
        except smtplib.SMTPRecipientsRefused:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert refused == {}


def queue_items(client: AuthenticatedClient, **filters) -> list[QueueItem]:
    page = list_queue.sync(client=client, limit=500, **filters)
    assert isinstance(page, QueuePage), page
    return page.items


def wait_for(check, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_login_gives_a_token_that_identifies_the_operator(server: Server, admin: AuthenticatedClient):
    who = me.sync(client=admin)
    assert isinstance(who, AccountView)
    assert who.email == ADMIN_EMAIL
    assert who.role == Role.ADMIN


def test_an_api_key_works_as_a_bearer_token_like_a_login(server: Server, admin: AuthenticatedClient):
    created = create_api_key.sync(client=admin, body=CreateApiKey(name="automation", scopes=[Scope.READ, Scope.WRITE]))
    assert isinstance(created, CreatedApiKey), created
    assert created.secret.startswith("mxs_")
    assert created.key.prefix == created.secret[: len(created.key.prefix)]

    keyed = server.client(created.secret)
    assert isinstance(keyed, AuthenticatedClient)
    who = me.sync(client=keyed)
    assert isinstance(who, AccountView) and who.email == ADMIN_EMAIL
    domain = add_domain(keyed)
    fetched = get_domain.sync(domain.id, client=keyed)
    assert isinstance(fetched, DomainView) and fetched.name == domain.name

    keys = list_api_keys.sync(client=admin)
    assert isinstance(keys, ApiKeyPage)
    assert created.key.id in [k.id for k in keys.items]


def test_a_customer_is_held_to_its_plan(server: Server, admin: AuthenticatedClient):
    account, token = new_customer(server, admin, max_domains=2, may_create_domain_admins=False)
    assert account.role == Role.CUSTOMER
    assert account.max_domains == 2
    assert account.may_create_domain_admins is False
    customer = server.client(token)
    assert isinstance(customer, AuthenticatedClient)

    first, second = add_domain(customer), add_domain(customer)
    assert first.owner_id == second.owner_id == account.id

    third = create_domain.sync_detailed(
        client=customer,
        body=CreateDomain(name=unique("over-plan"), target_host="127.0.0.1", target_port=closed_port()),
    )
    assert third.status_code == 403
    assert isinstance(third.parsed, Problem)
    assert third.parsed.type_ == "urn:mxspool:problem:forbidden"

    domain_admin = create_account.sync_detailed(
        client=customer,
        body=CreateAccount(
            email=f"{secrets.token_hex(4)}@admins.test", password="a long password 1", role=Role.DOMAIN_ADMIN
        ),
    )
    assert domain_admin.status_code == 403
    assert isinstance(domain_admin.parsed, Problem)


def test_a_relay_domain_comes_with_its_dns_instructions(server: Server, admin: AuthenticatedClient):
    domain = add_domain(admin)
    assert domain.target_host == "127.0.0.1"
    dns = dns_instructions.sync(domain.id, client=admin)
    assert dns is not None and not isinstance(dns, Problem), dns
    assert dns.domain == domain.name
    [record] = [r for r in dns.records if r.type_ == "MX"]
    assert (record.host, record.priority, record.value, record.ttl) == ("@", 90, "mx.test", 1800)
    assert "mx.test" in dns.zone_file_line


def test_mail_for_a_down_primary_waits_in_the_queue_and_can_be_held_released_and_flushed(
    server: Server, admin: AuthenticatedClient
):
    domain = add_domain(admin)
    other = add_domain(admin)
    sender = "alerts@sender.test"
    send_mail(server, sender, [f"alice@{domain.name}", f"bob@{domain.name}"], "first")
    send_mail(server, "someone@else.test", [f"carol@{other.name}"], "other domain")

    # The target port is closed: the first attempt fails and the recipients are deferred.
    deferred = wait_for(
        lambda: len(items := queue_items(admin, domain_id=domain.id, state=DeliveryState.DEFERRED)) == 2 and items,
        "two deferred recipients",
    )
    assert sorted(i.recipient for i in deferred) == [f"alice@{domain.name}", f"bob@{domain.name}"]
    assert all(i.domain_id == domain.id and i.sender == sender and i.subject == "first" for i in deferred)
    assert {i.recipient for i in queue_items(admin, domain_id=other.id)} == {f"carol@{other.name}"}
    assert [i.recipient for i in queue_items(admin, domain_id=domain.id, recipient=f"bob@{domain.name}")] == [
        f"bob@{domain.name}"
    ]
    assert queue_items(admin, domain_id=domain.id, sender="nobody@sender.test") == []

    message_id = deferred[0].message_id
    held = hold_message.sync(message_id, client=admin)
    assert isinstance(held, QueueActionResult), held
    assert held.affected == 2
    assert {i.state for i in queue_items(admin, domain_id=domain.id)} == {DeliveryState.HELD}
    assert len(queue_items(admin, domain_id=domain.id, state=DeliveryState.HELD)) == 2

    released = release_message.sync(message_id, client=admin)
    assert isinstance(released, QueueActionResult), released
    assert released.affected == 2
    assert queue_items(admin, domain_id=domain.id, state=DeliveryState.HELD) == []

    flushed = flush_domain.sync(domain.id, client=admin)
    assert isinstance(flushed, DomainFlushResult), flushed
    assert flushed.matched == 2
    assert flushed.target_host == "127.0.0.1"
    assert flushed.target_port == domain.target_port


def problem_of(answer, status: int, kind: str) -> Problem:
    assert answer.status_code == status, answer
    assert isinstance(answer.parsed, Problem), answer.parsed
    assert answer.parsed.status == status
    assert answer.parsed.type_ == f"urn:mxspool:problem:{kind}"
    assert answer.parsed.detail
    return answer.parsed


def test_errors_arrive_as_typed_problem_details(server: Server, admin: AuthenticatedClient):
    wrong = server.client("mxs_" + "x" * 40)
    assert isinstance(wrong, AuthenticatedClient)
    problem_of(me.sync_detailed(client=wrong), 401, "unauthorized")

    read_only = create_api_key.sync(client=admin, body=CreateApiKey(name="reader", scopes=[Scope.READ]))
    assert isinstance(read_only, CreatedApiKey)
    reader = server.client(read_only.secret)
    assert isinstance(reader, AuthenticatedClient)
    problem_of(
        create_domain.sync_detailed(client=reader, body=CreateDomain(name=unique("ro"), target_host="127.0.0.1")),
        403,
        "forbidden",
    )

    problem_of(get_domain.sync_detailed(2_000_000_000, client=admin), 404, "not-found")

    taken = add_domain(admin)
    problem_of(
        create_domain.sync_detailed(client=admin, body=CreateDomain(name=taken.name, target_host="127.0.0.1")),
        409,
        "conflict",
    )

    invalid = problem_of(
        create_domain.sync_detailed(client=admin, body=CreateDomain(name="-bad-.example", target_host="127.0.0.1")),
        422,
        "validation",
    )
    assert invalid.errors and [e.field for e in invalid.errors] == ["name"]


def test_cursors_page_through_120_domains(server: Server, admin: AuthenticatedClient):
    account, token = new_customer(server, admin, max_domains=200)
    customer = server.client(token)
    assert isinstance(customer, AuthenticatedClient)
    created = {add_domain(customer, name=f"page-{n:03}-{secrets.token_hex(3)}.example").id for n in range(120)}

    seen: list[int] = []
    pages = 0
    cursor: str | Unset = UNSET
    while True:
        page = list_domains.sync(client=customer, limit=50, cursor=cursor)
        assert isinstance(page, DomainPage), page
        pages += 1
        seen.extend(d.id for d in page.items)
        assert all(d.owner_id == account.id for d in page.items)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
        assert pages < 10, "the cursor never ran out"
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120
    assert set(seen) == created

    # The operator sees them too, filtered by owner, in pages of another size.
    owned = list_domains.sync(client=admin, owner_id=account.id, limit=500)
    assert isinstance(owned, DomainPage) and {d.id for d in owned.items} == created


def test_a_request_without_credentials_is_answered_with_a_problem(server: Server):
    answer = server.client().get_httpx_client().get("/api/v1/me")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["www-authenticate"].lower().startswith("bearer")
    problem = Problem.from_dict(answer.json())
    assert problem.status == 401
