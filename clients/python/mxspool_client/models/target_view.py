from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.target_state import TargetState
from ..types import UNSET, Unset

T = TypeVar("T", bound="TargetView")


@_attrs_define
class TargetView:
    """A target host (a domain's primary mail server) and its health.

    Example:
        {'changed_at': '2026-11-28T09:58:00Z', 'domain_count': 2, 'domain_ids': [12, 15], 'host':
            'mail.customer.example', 'last_error': 'connection refused (203.0.113.25:25)', 'last_probe_at':
            '2026-11-28T10:04:30Z', 'next_probe_at': '2026-11-28T10:05:30Z', 'port': 25, 'state': 'down'}

    Attributes:
        domain_count (int): How many of the caller's domains relay to this target.
        domain_ids (list[int]): Those domains' ids, by id (at most 100).
        host (str):
        port (int):
        state (TargetState): What the relay knows about a target: `unknown` (never judged), `up` (it answered),
            `down` (a connection failed; a prober is checking it).
        changed_at (datetime.datetime | None | Unset): When the state last changed; `null` when the relay has no record
            of the target.
        last_error (None | str | Unset): Why the last connection or probe failed.
        last_probe_at (datetime.datetime | None | Unset):
        next_probe_at (datetime.datetime | None | Unset): When the prober checks the target next (while it is down).
    """

    domain_count: int
    domain_ids: list[int]
    host: str
    port: int
    state: TargetState
    changed_at: datetime.datetime | None | Unset = UNSET
    last_error: None | str | Unset = UNSET
    last_probe_at: datetime.datetime | None | Unset = UNSET
    next_probe_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        domain_count = self.domain_count

        domain_ids = self.domain_ids

        host = self.host

        port = self.port

        state = self.state.value

        changed_at: None | str | Unset
        if isinstance(self.changed_at, Unset):
            changed_at = UNSET
        elif isinstance(self.changed_at, datetime.datetime):
            changed_at = self.changed_at.isoformat()
        else:
            changed_at = self.changed_at

        last_error: None | str | Unset
        if isinstance(self.last_error, Unset):
            last_error = UNSET
        else:
            last_error = self.last_error

        last_probe_at: None | str | Unset
        if isinstance(self.last_probe_at, Unset):
            last_probe_at = UNSET
        elif isinstance(self.last_probe_at, datetime.datetime):
            last_probe_at = self.last_probe_at.isoformat()
        else:
            last_probe_at = self.last_probe_at

        next_probe_at: None | str | Unset
        if isinstance(self.next_probe_at, Unset):
            next_probe_at = UNSET
        elif isinstance(self.next_probe_at, datetime.datetime):
            next_probe_at = self.next_probe_at.isoformat()
        else:
            next_probe_at = self.next_probe_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "domain_count": domain_count,
                "domain_ids": domain_ids,
                "host": host,
                "port": port,
                "state": state,
            }
        )
        if changed_at is not UNSET:
            field_dict["changed_at"] = changed_at
        if last_error is not UNSET:
            field_dict["last_error"] = last_error
        if last_probe_at is not UNSET:
            field_dict["last_probe_at"] = last_probe_at
        if next_probe_at is not UNSET:
            field_dict["next_probe_at"] = next_probe_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        domain_count = d.pop("domain_count")

        domain_ids = cast(list[int], d.pop("domain_ids"))

        host = d.pop("host")

        port = d.pop("port")

        state = TargetState(d.pop("state"))

        def _parse_changed_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                changed_at_type_0 = datetime.datetime.fromisoformat(data)

                return changed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        changed_at = _parse_changed_at(d.pop("changed_at", UNSET))

        def _parse_last_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_error = _parse_last_error(d.pop("last_error", UNSET))

        def _parse_last_probe_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_probe_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_probe_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_probe_at = _parse_last_probe_at(d.pop("last_probe_at", UNSET))

        def _parse_next_probe_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_probe_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_probe_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        next_probe_at = _parse_next_probe_at(d.pop("next_probe_at", UNSET))

        target_view = cls(
            domain_count=domain_count,
            domain_ids=domain_ids,
            host=host,
            port=port,
            state=state,
            changed_at=changed_at,
            last_error=last_error,
            last_probe_at=last_probe_at,
            next_probe_at=next_probe_at,
        )

        target_view.additional_properties = d
        return target_view

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
