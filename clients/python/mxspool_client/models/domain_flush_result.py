from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="DomainFlushResult")


@_attrs_define
class DomainFlushResult:
    """The answer to a flush.

    Example:
        {'affected': 999200, 'matched': 1000000, 'probe_scheduled': True, 'target_host': 'mail.customer.example',
            'target_port': 25}

    Attributes:
        affected (int): Of those, the recipients that were waiting for a later attempt and are now due.
        matched (int): The domain's queued and deferred recipients.
        probe_scheduled (bool): Whether the target was known to be down and is probed now rather than at its next
            interval (an up or untried target takes the mail directly).
        target_host (str):
        target_port (int):
    """

    affected: int
    matched: int
    probe_scheduled: bool
    target_host: str
    target_port: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        affected = self.affected

        matched = self.matched

        probe_scheduled = self.probe_scheduled

        target_host = self.target_host

        target_port = self.target_port

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "affected": affected,
                "matched": matched,
                "probe_scheduled": probe_scheduled,
                "target_host": target_host,
                "target_port": target_port,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        affected = d.pop("affected")

        matched = d.pop("matched")

        probe_scheduled = d.pop("probe_scheduled")

        target_host = d.pop("target_host")

        target_port = d.pop("target_port")

        domain_flush_result = cls(
            affected=affected,
            matched=matched,
            probe_scheduled=probe_scheduled,
            target_host=target_host,
            target_port=target_port,
        )

        domain_flush_result.additional_properties = d
        return domain_flush_result

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
