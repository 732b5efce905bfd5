from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.dns_lookup import DnsLookup
from ..types import UNSET, Unset

T = TypeVar("T", bound="DnsMxHost")


@_attrs_define
class DnsMxHost:
    """One published MX record and what its host name resolves to.

    Attributes:
        addresses (list[str]): A and AAAA addresses of `exchange`. Example: ['198.51.100.20'].
        exchange (str): Lower case, no trailing dot; `.` in a null MX.
        is_backup (bool): Whether this is the backup MX (this service).
        lookup (DnsLookup): What happened to one DNS query.
        preference (int):
        cname (None | str | Unset): The name `exchange` is an alias for, when it is a CNAME.
    """

    addresses: list[str]
    exchange: str
    is_backup: bool
    lookup: DnsLookup
    preference: int
    cname: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        addresses = self.addresses

        exchange = self.exchange

        is_backup = self.is_backup

        lookup = self.lookup.value

        preference = self.preference

        cname: None | str | Unset
        if isinstance(self.cname, Unset):
            cname = UNSET
        else:
            cname = self.cname

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "addresses": addresses,
                "exchange": exchange,
                "is_backup": is_backup,
                "lookup": lookup,
                "preference": preference,
            }
        )
        if cname is not UNSET:
            field_dict["cname"] = cname

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        addresses = cast(list[str], d.pop("addresses"))

        exchange = d.pop("exchange")

        is_backup = d.pop("is_backup")

        lookup = DnsLookup(d.pop("lookup"))

        preference = d.pop("preference")

        def _parse_cname(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cname = _parse_cname(d.pop("cname", UNSET))

        dns_mx_host = cls(
            addresses=addresses,
            exchange=exchange,
            is_backup=is_backup,
            lookup=lookup,
            preference=preference,
            cname=cname,
        )

        dns_mx_host.additional_properties = d
        return dns_mx_host

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
