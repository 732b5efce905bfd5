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
        case.query = _ordered_received_range(case.query)
    body, path = case.body, case.operation.path
    if not isinstance(body, dict):
        return case
    if path.endswith("/queue/actions") and isinstance(body.get("filter"), dict):
        body = dict(body, filter=_ordered_received_range(body["filter"]))
    if path.endswith("/api-keys"):
        # An API key's `expires_at` must be in the future.
        expires = _instant(body.get("expires_at"))
        if expires is not None and expires <= datetime.now(timezone.utc) + timedelta(minutes=1):
            body = {k: v for k, v in body.items() if k != "expires_at"}
    if path.endswith("/accounts") and body.get("role") != "customer":
        # Plan limits belong to customers; other roles must leave them out.
        body = {k: v for k, v in body.items() if k not in ("max_domains", "may_create_domain_admins")}
    case.body = body
    return case
