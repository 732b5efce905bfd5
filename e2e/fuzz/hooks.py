"""schemathesis hooks: the few input rules that a JSON schema cannot state.

The spec states every rule it can (lengths, ranges, formats, patterns); schemathesis then checks
that the server accepts whatever those rules allow. A handful of rules relate two fields or the
clock, or concern values only the server makes, and no schema keyword says them. The hooks below
make the generated requests keep those rules, so "schema-valid request rejected" means what it
says. Each rule is pinned by the Rust API tests, which check the 422 for breaking it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import schemathesis
from schemathesis import GenerationMode


def _local_part(value: Any) -> Any:
    """A recipient list entry as the local part alone, which means that address of the domain in
    the path; a full address must name that domain, which no schema of the list can say."""
    return value.rpartition("@")[0] if isinstance(value, str) and "@" in value else value


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _ordered_received_range(filters: dict[str, Any]) -> dict[str, Any]:
    """`received_after` must be earlier than `received_before` (a queue filter rule)."""
    after = _instant(filters.get("received_after"))
    before = _instant(filters.get("received_before"))
    if after is not None and before is not None and after >= before:
        filters = dict(filters)
        filters.pop("received_after")
    return filters


def _ordered_period(query: dict[str, Any]) -> dict[str, Any]:
    """`since` must not be later than `until` (outage reports)."""
    since = _instant(query.get("since"))
    until = _instant(query.get("until"))
    if since is not None and until is not None and since > until:
        query = {k: v for k, v in query.items() if k != "since"}
    return query


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    if isinstance(case.query, dict) and "cursor" in case.query:
        # `cursor` is an opaque token that only a previous page's `next_cursor` can give; an
        # invented one is refused with 422 naming `cursor`.
        case.query = {key: value for key, value in case.query.items() if key != "cursor"}
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        # Negative cases must stay as generated: each breaks a rule on purpose.
        return case
    if isinstance(case.query, dict):
        case.query = _ordered_period(_ordered_received_range(case.query))
    body, path = case.body, case.operation.path
    if "/recipients" in path and isinstance(case.path_parameters, dict):
        if "address" in case.path_parameters:
            case.path_parameters = dict(
                case.path_parameters, address=_local_part(case.path_parameters["address"])
            )
    if not isinstance(body, dict):
        return case
    if path.endswith("/queue/actions") and isinstance(body.get("filter"), dict):
        body = dict(body, filter=_ordered_received_range(body["filter"]))
    if path.endswith("/api-keys"):
        # An API key's `expires_at` must be in the future.
        expires = _instant(body.get("expires_at"))
        if expires is not None and expires <= datetime.now(timezone.utc) + timedelta(minutes=1):
            body = {k: v for k, v in body.items() if k != "expires_at"}
    if "/recipients" in path and isinstance(body.get("recipients"), list):
        body = dict(body, recipients=[_local_part(item) for item in body["recipients"]])
    if path.startswith("/api/v1/webhooks") and not path.endswith("/deliveries"):
        # `domain_ids` must name domains the account sees: ids only the server makes.
        if isinstance(body.get("domain_ids"), list):
            body = {k: v for k, v in body.items() if k != "domain_ids"}
        # `queue.threshold` needs a message count or an age to compare the queue with.
        thresholds = ("queue_threshold_messages", "queue_threshold_age_seconds")
        events = body.get("events")
        wants_threshold = isinstance(events, list) and "queue.threshold" in events
        if (wants_threshold or case.method.upper() == "PATCH") and not any(
            isinstance(body.get(key), int) for key in thresholds
        ):
            body = dict(body, queue_threshold_messages=1000)
    if path.endswith("/accounts") and body.get("role") != "customer":
        # Plan limits belong to customers; other roles must leave them out.
        body = {k: v for k, v in body.items() if k not in ("max_domains", "may_create_domain_admins")}
    case.body = body
    return case
