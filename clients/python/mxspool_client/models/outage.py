from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Outage")


@_attrs_define
class Outage:
    """One period the domain's target was down, and the domain's mail received during it.

    Example:
        {'bounced': 1, 'delivered': 55, 'duration_seconds': 2610.0, 'ended_at': '2026-11-28T10:41:30Z', 'expired': 0,
            'id': 311, 'max_delay_seconds': 2583.4, 'messages': 42, 'ongoing': False, 'pending': 1, 'reason': 'connection
            refused (203.0.113.25:25)', 'recipients': 57, 'started_at': '2026-11-28T09:58:00Z'}

    Attributes:
        bounced (int): Recipients the target refused permanently (a DSN went to the sender).
        delivered (int): Recipients delivered since.
        duration_seconds (float): From start to end, or to now while the outage lasts.
        expired (int): Recipients whose queue lifetime ran out before they could be delivered.
        id (int): Id of the target event that began the outage.
        messages (int): Messages received for the domain during the outage (at or after its start, before its
            end).
        ongoing (bool): The target is still down.
        pending (int): Recipients still in the queue (waiting, held or being delivered).
        recipients (int): The domain's recipients of those messages; the counts below are of recipients.
        started_at (datetime.datetime): When the relay found the target down.
        ended_at (datetime.datetime | None | Unset): When the target answered again; `null` while it is still down.
        max_delay_seconds (float | None | Unset): Longest time a recipient waited: from receipt to delivery (to the
            bounce or expiry for
            those; to now for those still in the queue). `null` when no mail came in.
        reason (None | str | Unset): The error that took the target down.
    """

    bounced: int
    delivered: int
    duration_seconds: float
    expired: int
    id: int
    messages: int
    ongoing: bool
    pending: int
    recipients: int
    started_at: datetime.datetime
    ended_at: datetime.datetime | None | Unset = UNSET
    max_delay_seconds: float | None | Unset = UNSET
    reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bounced = self.bounced

        delivered = self.delivered

        duration_seconds = self.duration_seconds

        expired = self.expired

        id = self.id

        messages = self.messages

        ongoing = self.ongoing

        pending = self.pending

        recipients = self.recipients

        started_at = self.started_at.isoformat()

        ended_at: None | str | Unset
        if isinstance(self.ended_at, Unset):
            ended_at = UNSET
        elif isinstance(self.ended_at, datetime.datetime):
            ended_at = self.ended_at.isoformat()
        else:
            ended_at = self.ended_at

        max_delay_seconds: float | None | Unset
        if isinstance(self.max_delay_seconds, Unset):
            max_delay_seconds = UNSET
        else:
            max_delay_seconds = self.max_delay_seconds

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bounced": bounced,
                "delivered": delivered,
                "duration_seconds": duration_seconds,
                "expired": expired,
                "id": id,
                "messages": messages,
                "ongoing": ongoing,
                "pending": pending,
                "recipients": recipients,
                "started_at": started_at,
            }
        )
        if ended_at is not UNSET:
            field_dict["ended_at"] = ended_at
        if max_delay_seconds is not UNSET:
            field_dict["max_delay_seconds"] = max_delay_seconds
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bounced = d.pop("bounced")

        delivered = d.pop("delivered")

        duration_seconds = d.pop("duration_seconds")

        expired = d.pop("expired")

        id = d.pop("id")

        messages = d.pop("messages")

        ongoing = d.pop("ongoing")

        pending = d.pop("pending")

        recipients = d.pop("recipients")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        def _parse_ended_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ended_at_type_0 = datetime.datetime.fromisoformat(data)

                return ended_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        ended_at = _parse_ended_at(d.pop("ended_at", UNSET))

        def _parse_max_delay_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        max_delay_seconds = _parse_max_delay_seconds(d.pop("max_delay_seconds", UNSET))

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

        outage = cls(
            bounced=bounced,
            delivered=delivered,
            duration_seconds=duration_seconds,
            expired=expired,
            id=id,
            messages=messages,
            ongoing=ongoing,
            pending=pending,
            recipients=recipients,
            started_at=started_at,
            ended_at=ended_at,
            max_delay_seconds=max_delay_seconds,
            reason=reason,
        )

        outage.additional_properties = d
        return outage

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
