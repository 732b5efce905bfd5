from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.dns_lookup import DnsLookup

T = TypeVar("T", bound="DnsHost")


@_attrs_define
class DnsHost:
    """A host name (or IP address) and what it resolves to.

    Attributes:
        addresses (list[str]):  Example: ['198.51.100.20'].
        host (str):
        lookup (DnsLookup): What happened to one DNS query.
    """

    addresses: list[str]
    host: str
    lookup: DnsLookup
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        addresses = self.addresses

        host = self.host

        lookup = self.lookup.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "addresses": addresses,
                "host": host,
                "lookup": lookup,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        addresses = cast(list[str], d.pop("addresses"))

        host = d.pop("host")

        lookup = DnsLookup(d.pop("lookup"))

        dns_host = cls(
            addresses=addresses,
            host=host,
            lookup=lookup,
        )

        dns_host.additional_properties = d
        return dns_host

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
