from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.dns_check_name import DnsCheckName
from ..models.dns_check_status import DnsCheckStatus

T = TypeVar("T", bound="DnsCheckItem")


@_attrs_define
class DnsCheckItem:
    """One named check: its outcome and a sentence saying what was found and what to do.

    Example:
        {'message': 'backup-mx.example.net has preference 10, the same as mail.customer.example: senders then pick
            either at random, so the backup receives mail while the primary is up. Give the backup a higher number (90).',
            'name': 'backup_least_priority', 'status': 'error'}

    Attributes:
        message (str):
        name (DnsCheckName): The stable machine names of the checks, in the order they are reported:
            `mx_records_present` (the domain has MX records, and no null MX), `backup_listed` (this
            service's host name is one of them), `backup_least_priority` (its preference number is
            strictly higher than every other MX's), `primary_listed` (the target host, by name or by a
            shared address, is an MX with a lower number), `target_resolves`, `no_loop` (the target is
            not this service), `mx_hosts_resolve` (A/AAAA), `mx_hosts_not_cname`, `mx_ttl`.
        status (DnsCheckStatus): The outcome of a single named check.
    """

    message: str
    name: DnsCheckName
    status: DnsCheckStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        message = self.message

        name = self.name.value

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "message": message,
                "name": name,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        message = d.pop("message")

        name = DnsCheckName(d.pop("name"))

        status = DnsCheckStatus(d.pop("status"))

        dns_check_item = cls(
            message=message,
            name=name,
            status=status,
        )

        dns_check_item.additional_properties = d
        return dns_check_item

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
