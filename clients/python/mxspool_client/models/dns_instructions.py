from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.dns_record import DnsRecord


T = TypeVar("T", bound="DnsInstructions")


@_attrs_define
class DnsInstructions:
    """What to publish in DNS for one relay domain.

    Example:
        {'domain': 'customer.example', 'instructions': 'Add an MX record for customer.example …', 'records': [{'host':
            '@', 'priority': 90, 'ttl': 1800, 'type': 'MX', 'value': 'backup-mx.example.net'}], 'zone_file_line':
            'customer.example. 1800 IN MX 90 backup-mx.example.net.'}

    Attributes:
        domain (str):
        instructions (str): What to do, in words.
        records (list[DnsRecord]):
        zone_file_line (str): The same record as a line for a BIND-style zone file.
    """

    domain: str
    instructions: str
    records: list[DnsRecord]
    zone_file_line: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        domain = self.domain

        instructions = self.instructions

        records = []
        for records_item_data in self.records:
            records_item = records_item_data.to_dict()
            records.append(records_item)

        zone_file_line = self.zone_file_line

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "domain": domain,
                "instructions": instructions,
                "records": records,
                "zone_file_line": zone_file_line,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dns_record import DnsRecord  # noqa: PLC0415

        d = dict(src_dict)
        domain = d.pop("domain")

        instructions = d.pop("instructions")

        records = []
        _records = d.pop("records")
        for records_item_data in _records:
            records_item = DnsRecord.from_dict(records_item_data)

            records.append(records_item)

        zone_file_line = d.pop("zone_file_line")

        dns_instructions = cls(
            domain=domain,
            instructions=instructions,
            records=records,
            zone_file_line=zone_file_line,
        )

        dns_instructions.additional_properties = d
        return dns_instructions

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
