from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.domain_type import DomainType
from ..models.recipient_policy import RecipientPolicy
from ..models.service import Service
from ..models.tls_policy import TlsPolicy

T = TypeVar("T", bound="DomainView")


@_attrs_define
class DomainView:
    """A relay domain.

    Example:
        {'admin_ids': [], 'created_at': '2026-11-28T10:00:00Z', 'enabled': True, 'id': 12, 'max_message_size': 52428800,
            'name': 'customer.example', 'owner_id': 7, 'queue_lifetime_seconds': 432000, 'recipient_policy': 'any',
            'service': 'smtp', 'target_host': 'mail.customer.example', 'target_port': 25, 'tls_policy': 'opportunistic',
            'type': 'relay', 'updated_at': '2026-11-28T10:00:00Z'}

    Attributes:
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
    """

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
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
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

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
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
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
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

        domain_view = cls(
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
