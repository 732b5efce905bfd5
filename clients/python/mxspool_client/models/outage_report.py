from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.outage import Outage


T = TypeVar("T", bound="OutageReport")


@_attrs_define
class OutageReport:
    """One page of a domain's outage report, newest outage first.

    Example:
        {'domain_id': 12, 'items': [{'bounced': 1, 'delivered': 55, 'duration_seconds': 2610.0, 'ended_at':
            '2026-11-28T10:41:30Z', 'expired': 0, 'id': 311, 'max_delay_seconds': 2583.4, 'messages': 42, 'ongoing': False,
            'pending': 1, 'reason': 'connection refused (203.0.113.25:25)', 'recipients': 57, 'started_at':
            '2026-11-28T09:58:00Z'}], 'next_cursor': None, 'target_host': 'mail.customer.example', 'target_port': 25}

    Attributes:
        domain_id (int): Primary key of `relay_domains`. Example: 42.
        items (list[Outage]):
        target_host (str): The domain's current target, whose outages these are.
        target_port (int):
        next_cursor (None | str | Unset): Pass as `cursor` to get the next page; `null` on the last page.
    """

    domain_id: int
    items: list[Outage]
    target_host: str
    target_port: int
    next_cursor: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        domain_id = self.domain_id

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        target_host = self.target_host

        target_port = self.target_port

        next_cursor: None | str | Unset
        if isinstance(self.next_cursor, Unset):
            next_cursor = UNSET
        else:
            next_cursor = self.next_cursor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "domain_id": domain_id,
                "items": items,
                "target_host": target_host,
                "target_port": target_port,
            }
        )
        if next_cursor is not UNSET:
            field_dict["next_cursor"] = next_cursor

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.outage import Outage  # noqa: PLC0415

        d = dict(src_dict)
        domain_id = d.pop("domain_id")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = Outage.from_dict(items_item_data)

            items.append(items_item)

        target_host = d.pop("target_host")

        target_port = d.pop("target_port")

        def _parse_next_cursor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        next_cursor = _parse_next_cursor(d.pop("next_cursor", UNSET))

        outage_report = cls(
            domain_id=domain_id,
            items=items,
            target_host=target_host,
            target_port=target_port,
            next_cursor=next_cursor,
        )

        outage_report.additional_properties = d
        return outage_report

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
