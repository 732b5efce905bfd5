from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.target_state import TargetState
from ..types import UNSET, Unset

T = TypeVar("T", bound="TargetEvent")


@_attrs_define
class TargetEvent:
    """One change of a target's health.

    Example:
        {'at': '2026-11-28T10:05:31Z', 'detail': '220 mail.customer.example ESMTP', 'host': 'mail.customer.example',
            'id': 311, 'port': 25, 'state': 'up'}

    Attributes:
        at (datetime.datetime):
        host (str):
        id (int):
        port (int):
        state (TargetState): What the relay knows about a target: `unknown` (never judged), `up` (it answered),
            `down` (a connection failed; a prober is checking it).
        detail (None | str | Unset): The greeting or the error that decided it.
    """

    at: datetime.datetime
    host: str
    id: int
    port: int
    state: TargetState
    detail: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        host = self.host

        id = self.id

        port = self.port

        state = self.state.value

        detail: None | str | Unset
        if isinstance(self.detail, Unset):
            detail = UNSET
        else:
            detail = self.detail

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "host": host,
                "id": id,
                "port": port,
                "state": state,
            }
        )
        if detail is not UNSET:
            field_dict["detail"] = detail

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        host = d.pop("host")

        id = d.pop("id")

        port = d.pop("port")

        state = TargetState(d.pop("state"))

        def _parse_detail(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        detail = _parse_detail(d.pop("detail", UNSET))

        target_event = cls(
            at=at,
            host=host,
            id=id,
            port=port,
            state=state,
            detail=detail,
        )

        target_event.additional_properties = d
        return target_event

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
