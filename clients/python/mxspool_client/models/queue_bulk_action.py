from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.queue_action_kind import QueueActionKind
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.queue_filter_spec import QueueFilterSpec


T = TypeVar("T", bound="QueueBulkAction")


@_attrs_define
class QueueBulkAction:
    """A command for every visible recipient matching a filter.

    Example:
        {'action': 'retry', 'dry_run': True, 'filter': {'domain_id': 12, 'state': 'deferred'}}

    Attributes:
        action (QueueActionKind): What a queue command does.
        filter_ (QueueFilterSpec): Which recipients a bulk command acts on; the same filters as `GET /queue`. An empty
            filter selects all of the caller's unfinished mail (for an operator: the whole queue). Example: {'domain_id':
            12, 'state': 'deferred'}.
        dry_run (bool | Unset): Count without changing anything (default false).
    """

    action: QueueActionKind
    filter_: QueueFilterSpec
    dry_run: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        action = self.action.value

        filter_ = self.filter_.to_dict()

        dry_run = self.dry_run

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "action": action,
                "filter": filter_,
            }
        )
        if dry_run is not UNSET:
            field_dict["dry_run"] = dry_run

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.queue_filter_spec import QueueFilterSpec  # noqa: PLC0415

        d = dict(src_dict)
        action = QueueActionKind(d.pop("action"))

        filter_ = QueueFilterSpec.from_dict(d.pop("filter"))

        dry_run = d.pop("dry_run", UNSET)

        queue_bulk_action = cls(
            action=action,
            filter_=filter_,
            dry_run=dry_run,
        )

        return queue_bulk_action
