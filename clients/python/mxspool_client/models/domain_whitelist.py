from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.whitelist_address import WhitelistAddress


T = TypeVar("T", bound="DomainWhitelist")


@_attrs_define
class DomainWhitelist:
    """The evidence for one relay domain.

    Attributes:
        addresses (list[WhitelistAddress]): One entry per egress address, in the order of `egress`.
        domain (str):
        domain_id (int):
        target_host (str): The primary mail server, where the allow-list entries go.
        target_port (int):
    """

    addresses: list[WhitelistAddress]
    domain: str
    domain_id: int
    target_host: str
    target_port: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        addresses = []
        for addresses_item_data in self.addresses:
            addresses_item = addresses_item_data.to_dict()
            addresses.append(addresses_item)

        domain = self.domain

        domain_id = self.domain_id

        target_host = self.target_host

        target_port = self.target_port

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "addresses": addresses,
                "domain": domain,
                "domain_id": domain_id,
                "target_host": target_host,
                "target_port": target_port,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.whitelist_address import WhitelistAddress  # noqa: PLC0415

        d = dict(src_dict)
        addresses = []
        _addresses = d.pop("addresses")
        for addresses_item_data in _addresses:
            addresses_item = WhitelistAddress.from_dict(addresses_item_data)

            addresses.append(addresses_item)

        domain = d.pop("domain")

        domain_id = d.pop("domain_id")

        target_host = d.pop("target_host")

        target_port = d.pop("target_port")

        domain_whitelist = cls(
            addresses=addresses,
            domain=domain,
            domain_id=domain_id,
            target_host=target_host,
            target_port=target_port,
        )

        domain_whitelist.additional_properties = d
        return domain_whitelist

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
