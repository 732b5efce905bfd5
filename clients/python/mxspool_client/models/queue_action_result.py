from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="QueueActionResult")


@_attrs_define
class QueueActionResult:
    """What a queue command selected and changed.

    Example:
        {'affected': 1248, 'dry_run': False, 'in_delivery': 2, 'matched': 1250}

    Attributes:
        affected (int): Of those, the recipients the command changed (in a dry run: would change). Retry
            changes queued or deferred recipients not yet due; hold queued or deferred ones;
            release held ones; delete all but those being delivered.
        dry_run (bool):
        in_delivery (int): Of those matched, the recipients being delivered at that moment, which no command
            touches (the delivery's outcome decides their state).
        matched (int): Recipients the command selected: for one message, all of its recipients the caller
            sees (in any state); for a bulk command, those matching the filter.
    """

    affected: int
    dry_run: bool
    in_delivery: int
    matched: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        affected = self.affected

        dry_run = self.dry_run

        in_delivery = self.in_delivery

        matched = self.matched

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "affected": affected,
                "dry_run": dry_run,
                "in_delivery": in_delivery,
                "matched": matched,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        affected = d.pop("affected")

        dry_run = d.pop("dry_run")

        in_delivery = d.pop("in_delivery")

        matched = d.pop("matched")

        queue_action_result = cls(
            affected=affected,
            dry_run=dry_run,
            in_delivery=in_delivery,
            matched=matched,
        )

        queue_action_result.additional_properties = d
        return queue_action_result

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
