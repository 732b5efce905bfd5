from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.dns_status import DnsStatus

T = TypeVar("T", bound="DnsCheckSummary")


@_attrs_define
class DnsCheckSummary:
    """When the domain's DNS was last checked, and the overall result.

    Attributes:
        checked_at (datetime.datetime):
        status (DnsStatus): Overall result of a live DNS check, the worst of its named checks.
    """

    checked_at: datetime.datetime
    status: DnsStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        checked_at = self.checked_at.isoformat()

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "checked_at": checked_at,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        checked_at = datetime.datetime.fromisoformat(d.pop("checked_at"))

        status = DnsStatus(d.pop("status"))

        dns_check_summary = cls(
            checked_at=checked_at,
            status=status,
        )

        dns_check_summary.additional_properties = d
        return dns_check_summary

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
