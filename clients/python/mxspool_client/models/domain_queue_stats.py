from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="DomainQueueStats")


@_attrs_define
class DomainQueueStats:
    """A domain's queue in numbers.

    Example:
        {'bounced_24h': 3, 'deferred': 1250, 'delivered_24h': 8120, 'delivering': 4, 'domain_id': 12, 'expired_24h': 0,
            'held': 0, 'oldest_age_seconds': 42600, 'oldest_queued_at': '2026-11-27T22:10:00Z', 'queued': 10}

    Attributes:
        bounced_24h (int): Recipients refused permanently (5xx) in the last 24 hours.
        deferred (int):
        delivered_24h (int): Recipients delivered in the last 24 hours.
        delivering (int):
        domain_id (int): Primary key of `relay_domains`. Example: 42.
        expired_24h (int): Recipients that expired (queue lifetime reached) in the last 24 hours.
        held (int):
        queued (int):
        oldest_age_seconds (int | None | Unset): Age of that message in seconds.
        oldest_queued_at (datetime.datetime | None | Unset): When the oldest message still in the queue for this domain
            (queued, deferred, held or
            being delivered) was received; `null` when none is.
    """

    bounced_24h: int
    deferred: int
    delivered_24h: int
    delivering: int
    domain_id: int
    expired_24h: int
    held: int
    queued: int
    oldest_age_seconds: int | None | Unset = UNSET
    oldest_queued_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bounced_24h = self.bounced_24h

        deferred = self.deferred

        delivered_24h = self.delivered_24h

        delivering = self.delivering

        domain_id = self.domain_id

        expired_24h = self.expired_24h

        held = self.held

        queued = self.queued

        oldest_age_seconds: int | None | Unset
        if isinstance(self.oldest_age_seconds, Unset):
            oldest_age_seconds = UNSET
        else:
            oldest_age_seconds = self.oldest_age_seconds

        oldest_queued_at: None | str | Unset
        if isinstance(self.oldest_queued_at, Unset):
            oldest_queued_at = UNSET
        elif isinstance(self.oldest_queued_at, datetime.datetime):
            oldest_queued_at = self.oldest_queued_at.isoformat()
        else:
            oldest_queued_at = self.oldest_queued_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bounced_24h": bounced_24h,
                "deferred": deferred,
                "delivered_24h": delivered_24h,
                "delivering": delivering,
                "domain_id": domain_id,
                "expired_24h": expired_24h,
                "held": held,
                "queued": queued,
            }
        )
        if oldest_age_seconds is not UNSET:
            field_dict["oldest_age_seconds"] = oldest_age_seconds
        if oldest_queued_at is not UNSET:
            field_dict["oldest_queued_at"] = oldest_queued_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bounced_24h = d.pop("bounced_24h")

        deferred = d.pop("deferred")

        delivered_24h = d.pop("delivered_24h")

        delivering = d.pop("delivering")

        domain_id = d.pop("domain_id")

        expired_24h = d.pop("expired_24h")

        held = d.pop("held")

        queued = d.pop("queued")

        def _parse_oldest_age_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        oldest_age_seconds = _parse_oldest_age_seconds(d.pop("oldest_age_seconds", UNSET))

        def _parse_oldest_queued_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                oldest_queued_at_type_0 = datetime.datetime.fromisoformat(data)

                return oldest_queued_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        oldest_queued_at = _parse_oldest_queued_at(d.pop("oldest_queued_at", UNSET))

        domain_queue_stats = cls(
            bounced_24h=bounced_24h,
            deferred=deferred,
            delivered_24h=delivered_24h,
            delivering=delivering,
            domain_id=domain_id,
            expired_24h=expired_24h,
            held=held,
            queued=queued,
            oldest_age_seconds=oldest_age_seconds,
            oldest_queued_at=oldest_queued_at,
        )

        domain_queue_stats.additional_properties = d
        return domain_queue_stats

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
