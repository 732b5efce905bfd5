from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="EgressAddress")


@_attrs_define
class EgressAddress:
    """One address mxspool sends mail from.

    Attributes:
        cidr (str): The address as a one-host network (`/32`, `/128`), as most allow lists take it.
        family (str): `ipv4` or `ipv6`.
        forward_confirmed (bool): One of the PTR names resolves back to this address.
        ip (str):
        ptr_names (list[str]): Every PTR name of the address.
        dns_problem (None | str | Unset): What went wrong looking the names up (NXDOMAIN, timeout, …); null when nothing
            did.
        ptr (None | str | Unset): The first PTR name (without the trailing dot); null without one.
    """

    cidr: str
    family: str
    forward_confirmed: bool
    ip: str
    ptr_names: list[str]
    dns_problem: None | str | Unset = UNSET
    ptr: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cidr = self.cidr

        family = self.family

        forward_confirmed = self.forward_confirmed

        ip = self.ip

        ptr_names = self.ptr_names

        dns_problem: None | str | Unset
        if isinstance(self.dns_problem, Unset):
            dns_problem = UNSET
        else:
            dns_problem = self.dns_problem

        ptr: None | str | Unset
        if isinstance(self.ptr, Unset):
            ptr = UNSET
        else:
            ptr = self.ptr

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cidr": cidr,
                "family": family,
                "forward_confirmed": forward_confirmed,
                "ip": ip,
                "ptr_names": ptr_names,
            }
        )
        if dns_problem is not UNSET:
            field_dict["dns_problem"] = dns_problem
        if ptr is not UNSET:
            field_dict["ptr"] = ptr

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cidr = d.pop("cidr")

        family = d.pop("family")

        forward_confirmed = d.pop("forward_confirmed")

        ip = d.pop("ip")

        ptr_names = cast(list[str], d.pop("ptr_names"))

        def _parse_dns_problem(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        dns_problem = _parse_dns_problem(d.pop("dns_problem", UNSET))

        def _parse_ptr(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ptr = _parse_ptr(d.pop("ptr", UNSET))

        egress_address = cls(
            cidr=cidr,
            family=family,
            forward_confirmed=forward_confirmed,
            ip=ip,
            ptr_names=ptr_names,
            dns_problem=dns_problem,
            ptr=ptr,
        )

        egress_address.additional_properties = d
        return egress_address

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
