from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.domain_type import DomainType
from ..models.recipient_policy import RecipientPolicy
from ..models.service import Service
from ..models.tls_policy import TlsPolicy
from ..models.verify_fallback import VerifyFallback
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dns_check_summary import DnsCheckSummary


T = TypeVar("T", bound="DomainView")


@_attrs_define
class DomainView:
    """A relay domain.

    Example:
        {'accept_only_when_primary_down': False, 'admin_ids': [], 'created_at': '2026-11-28T10:00:00Z', 'enabled': True,
            'id': 12, 'last_dns_check': {'checked_at': '2026-11-28T10:05:00Z', 'status': 'ok'}, 'max_message_size':
            52428800, 'name': 'customer.example', 'owner_id': 7, 'queue_lifetime_seconds': 432000, 'recipient_policy':
            'any', 'service': 'smtp', 'target_host': 'mail.customer.example', 'target_port': 25, 'tls_policy':
            'opportunistic', 'type': 'relay', 'updated_at': '2026-11-28T10:00:00Z', 'verify_fallback': 'tempfail',
            'verify_invalid_ttl_seconds': 86400, 'verify_valid_ttl_seconds': 604800}

    Attributes:
        accept_only_when_primary_down (bool): Backup-only mode: while the target host is up, the relay answers RCPT for
            this domain
            with `451 4.7.1` (use the primary); mail is accepted only while the target is down.
        admin_ids (list[int]): Accounts with the `domain_admin` role that manage this domain.
        created_at (datetime.datetime):
        enabled (bool): A disabled domain's mail is refused at RCPT time.
        id (int): Primary key of `relay_domains`. Example: 42.
        max_message_size (int): Largest message accepted for this domain, in bytes.
        name (str): Normalised: lower case, A-labels, no trailing dot.
        owner_id (int): Primary key of `accounts`. Example: 42.
        queue_lifetime_seconds (int): How long undeliverable mail is kept before it bounces, in seconds.
        recipient_policy (RecipientPolicy): Which recipients the relay accepts at RCPT time: `any` local part, only
            `listed`
            ones, or those the target host confirms (`verify`, a cached callout).
        service (Service): How mail reaches the target host.
        target_host (str): The primary mail server that relayed mail is delivered to.
        target_port (int):
        tls_policy (TlsPolicy): TLS towards the target host: `none` never, `opportunistic` when offered, `required`
            without certificate checks, `verify` with certificate and name checks.
        type_ (DomainType): The kind of domain; only relaying (backup MX) exists today.
        updated_at (datetime.datetime):
        verify_fallback (VerifyFallback): What the relay answers at RCPT for a `verify` domain when the target cannot be
            asked
            and no cached callout answer exists: `accept` the recipient, or `tempfail` it with
            `450 4.4.3` so the sender retries later.
        verify_invalid_ttl_seconds (int): `verify` policy: seconds a callout's "no such recipient" answer is cached.
        verify_valid_ttl_seconds (int): `verify` policy: seconds a callout's "recipient exists" answer is cached.
        last_dns_check (DnsCheckSummary | None | Unset):
    """

    accept_only_when_primary_down: bool
    admin_ids: list[int]
    created_at: datetime.datetime
    enabled: bool
    id: int
    max_message_size: int
    name: str
    owner_id: int
    queue_lifetime_seconds: int
    recipient_policy: RecipientPolicy
    service: Service
    target_host: str
    target_port: int
    tls_policy: TlsPolicy
    type_: DomainType
    updated_at: datetime.datetime
    verify_fallback: VerifyFallback
    verify_invalid_ttl_seconds: int
    verify_valid_ttl_seconds: int
    last_dns_check: DnsCheckSummary | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.dns_check_summary import DnsCheckSummary  # noqa: PLC0415

        accept_only_when_primary_down = self.accept_only_when_primary_down

        admin_ids = self.admin_ids

        created_at = self.created_at.isoformat()

        enabled = self.enabled

        id = self.id

        max_message_size = self.max_message_size

        name = self.name

        owner_id = self.owner_id

        queue_lifetime_seconds = self.queue_lifetime_seconds

        recipient_policy = self.recipient_policy.value

        service = self.service.value

        target_host = self.target_host

        target_port = self.target_port

        tls_policy = self.tls_policy.value

        type_ = self.type_.value

        updated_at = self.updated_at.isoformat()

        verify_fallback = self.verify_fallback.value

        verify_invalid_ttl_seconds = self.verify_invalid_ttl_seconds

        verify_valid_ttl_seconds = self.verify_valid_ttl_seconds

        last_dns_check: dict[str, Any] | None | Unset
        if isinstance(self.last_dns_check, Unset):
            last_dns_check = UNSET
        elif isinstance(self.last_dns_check, DnsCheckSummary):
            last_dns_check = self.last_dns_check.to_dict()
        else:
            last_dns_check = self.last_dns_check

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "accept_only_when_primary_down": accept_only_when_primary_down,
                "admin_ids": admin_ids,
                "created_at": created_at,
                "enabled": enabled,
                "id": id,
                "max_message_size": max_message_size,
                "name": name,
                "owner_id": owner_id,
                "queue_lifetime_seconds": queue_lifetime_seconds,
                "recipient_policy": recipient_policy,
                "service": service,
                "target_host": target_host,
                "target_port": target_port,
                "tls_policy": tls_policy,
                "type": type_,
                "updated_at": updated_at,
                "verify_fallback": verify_fallback,
                "verify_invalid_ttl_seconds": verify_invalid_ttl_seconds,
                "verify_valid_ttl_seconds": verify_valid_ttl_seconds,
            }
        )
        if last_dns_check is not UNSET:
            field_dict["last_dns_check"] = last_dns_check

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dns_check_summary import DnsCheckSummary  # noqa: PLC0415

        d = dict(src_dict)
        accept_only_when_primary_down = d.pop("accept_only_when_primary_down")

        admin_ids = cast(list[int], d.pop("admin_ids"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        enabled = d.pop("enabled")

        id = d.pop("id")

        max_message_size = d.pop("max_message_size")

        name = d.pop("name")

        owner_id = d.pop("owner_id")

        queue_lifetime_seconds = d.pop("queue_lifetime_seconds")

        recipient_policy = RecipientPolicy(d.pop("recipient_policy"))

        service = Service(d.pop("service"))

        target_host = d.pop("target_host")

        target_port = d.pop("target_port")

        tls_policy = TlsPolicy(d.pop("tls_policy"))

        type_ = DomainType(d.pop("type"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        verify_fallback = VerifyFallback(d.pop("verify_fallback"))

        verify_invalid_ttl_seconds = d.pop("verify_invalid_ttl_seconds")

        verify_valid_ttl_seconds = d.pop("verify_valid_ttl_seconds")

        def _parse_last_dns_check(data: object) -> DnsCheckSummary | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                last_dns_check_type_1 = DnsCheckSummary.from_dict(data)

                return last_dns_check_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DnsCheckSummary | None | Unset, data)

        last_dns_check = _parse_last_dns_check(d.pop("last_dns_check", UNSET))

        domain_view = cls(
            accept_only_when_primary_down=accept_only_when_primary_down,
            admin_ids=admin_ids,
            created_at=created_at,
            enabled=enabled,
            id=id,
            max_message_size=max_message_size,
            name=name,
            owner_id=owner_id,
            queue_lifetime_seconds=queue_lifetime_seconds,
            recipient_policy=recipient_policy,
            service=service,
            target_host=target_host,
            target_port=target_port,
            tls_policy=tls_policy,
            type_=type_,
            updated_at=updated_at,
            verify_fallback=verify_fallback,
            verify_invalid_ttl_seconds=verify_invalid_ttl_seconds,
            verify_valid_ttl_seconds=verify_valid_ttl_seconds,
            last_dns_check=last_dns_check,
        )

        domain_view.additional_properties = d
        return domain_view

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
