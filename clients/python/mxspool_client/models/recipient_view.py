from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RecipientView")


@_attrs_define
class RecipientView:
    """One listed recipient.

    Example:
        {'address': 'bob@customer.example', 'created_at': '2026-11-28T09:30:00Z', 'local_part': 'bob'}

    Attributes:
        address (str): The full address, lower-cased local part.
        created_at (datetime.datetime):
        local_part (str): The local part as stored (lower-cased).
    """

    address: str
    created_at: datetime.datetime
    local_part: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        address = self.address

        created_at = self.created_at.isoformat()

        local_part = self.local_part

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "address": address,
                "created_at": created_at,
                "local_part": local_part,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        address = d.pop("address")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        local_part = d.pop("local_part")

        recipient_view = cls(
            address=address,
            created_at=created_at,
            local_part=local_part,
        )

        recipient_view.additional_properties = d
        return recipient_view

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
