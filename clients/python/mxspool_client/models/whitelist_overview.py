from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.egress_source import EgressSource
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.domain_whitelist import DomainWhitelist
    from ..models.egress_address import EgressAddress
    from ..models.whitelist_snippet import WhitelistSnippet


T = TypeVar("T", bound="WhitelistOverview")


@_attrs_define
class WhitelistOverview:
    """`GET /whitelist`: one page of the caller's domains with their evidence; the egress
    addresses and snippets once for all of them.

        Attributes:
            backup_mx_hostname (str):
            egress (list[EgressAddress]):
            egress_source (EgressSource): Where the egress addresses come from.
            generated_at (datetime.datetime):
            items (list[DomainWhitelist]): The caller's domains (ordered by id), with per-address evidence and verdicts.
            recent_days (int):
            snippets (list[WhitelistSnippet]): The snippets cover the target ports of the domains on this page.
            egress_problem (None | str | Unset):
            next_cursor (None | str | Unset): Pass as `cursor` for the next page; null on the last page.
    """

    backup_mx_hostname: str
    egress: list[EgressAddress]
    egress_source: EgressSource
    generated_at: datetime.datetime
    items: list[DomainWhitelist]
    recent_days: int
    snippets: list[WhitelistSnippet]
    egress_problem: None | str | Unset = UNSET
    next_cursor: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        backup_mx_hostname = self.backup_mx_hostname

        egress = []
        for egress_item_data in self.egress:
            egress_item = egress_item_data.to_dict()
            egress.append(egress_item)

        egress_source = self.egress_source.value

        generated_at = self.generated_at.isoformat()

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        recent_days = self.recent_days

        snippets = []
        for snippets_item_data in self.snippets:
            snippets_item = snippets_item_data.to_dict()
            snippets.append(snippets_item)

        egress_problem: None | str | Unset
        if isinstance(self.egress_problem, Unset):
            egress_problem = UNSET
        else:
            egress_problem = self.egress_problem

        next_cursor: None | str | Unset
        if isinstance(self.next_cursor, Unset):
            next_cursor = UNSET
        else:
            next_cursor = self.next_cursor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "backup_mx_hostname": backup_mx_hostname,
                "egress": egress,
                "egress_source": egress_source,
                "generated_at": generated_at,
                "items": items,
                "recent_days": recent_days,
                "snippets": snippets,
            }
        )
        if egress_problem is not UNSET:
            field_dict["egress_problem"] = egress_problem
        if next_cursor is not UNSET:
            field_dict["next_cursor"] = next_cursor

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.domain_whitelist import DomainWhitelist  # noqa: PLC0415
        from ..models.egress_address import EgressAddress  # noqa: PLC0415
        from ..models.whitelist_snippet import WhitelistSnippet  # noqa: PLC0415

        d = dict(src_dict)
        backup_mx_hostname = d.pop("backup_mx_hostname")

        egress = []
        _egress = d.pop("egress")
        for egress_item_data in _egress:
            egress_item = EgressAddress.from_dict(egress_item_data)

            egress.append(egress_item)

        egress_source = EgressSource(d.pop("egress_source"))

        generated_at = datetime.datetime.fromisoformat(d.pop("generated_at"))

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = DomainWhitelist.from_dict(items_item_data)

            items.append(items_item)

        recent_days = d.pop("recent_days")

        snippets = []
        _snippets = d.pop("snippets")
        for snippets_item_data in _snippets:
            snippets_item = WhitelistSnippet.from_dict(snippets_item_data)

            snippets.append(snippets_item)

        def _parse_egress_problem(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        egress_problem = _parse_egress_problem(d.pop("egress_problem", UNSET))

        def _parse_next_cursor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        next_cursor = _parse_next_cursor(d.pop("next_cursor", UNSET))

        whitelist_overview = cls(
            backup_mx_hostname=backup_mx_hostname,
            egress=egress,
            egress_source=egress_source,
            generated_at=generated_at,
            items=items,
            recent_days=recent_days,
            snippets=snippets,
            egress_problem=egress_problem,
            next_cursor=next_cursor,
        )

        whitelist_overview.additional_properties = d
        return whitelist_overview

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
