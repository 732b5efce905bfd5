from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.delivery_state import DeliveryState
from ..types import UNSET, Unset

T = TypeVar("T", bound="QueueFilterSpec")


@_attrs_define
class QueueFilterSpec:
    """Which recipients a bulk command acts on; the same filters as `GET /queue`. An empty
    filter selects all of the caller's unfinished mail (for an operator: the whole queue).

        Example:
            {'domain_id': 12, 'state': 'deferred'}

        Attributes:
            domain_id (int | None | Unset):
            received_after (datetime.datetime | None | Unset): Received at or after this time.
            received_before (datetime.datetime | None | Unset): Received before this time.
            recipient (None | str | Unset): Exact envelope recipient.
            sender (None | str | Unset): Exact envelope sender; `<>` for the null sender.
            state (DeliveryState | None | Unset):
    """

    domain_id: int | None | Unset = UNSET
    received_after: datetime.datetime | None | Unset = UNSET
    received_before: datetime.datetime | None | Unset = UNSET
    recipient: None | str | Unset = UNSET
    sender: None | str | Unset = UNSET
    state: DeliveryState | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        domain_id: int | None | Unset
        if isinstance(self.domain_id, Unset):
            domain_id = UNSET
        else:
            domain_id = self.domain_id

        received_after: None | str | Unset
        if isinstance(self.received_after, Unset):
            received_after = UNSET
        elif isinstance(self.received_after, datetime.datetime):
            received_after = self.received_after.isoformat()
        else:
            received_after = self.received_after

        received_before: None | str | Unset
        if isinstance(self.received_before, Unset):
            received_before = UNSET
        elif isinstance(self.received_before, datetime.datetime):
            received_before = self.received_before.isoformat()
        else:
            received_before = self.received_before

        recipient: None | str | Unset
        if isinstance(self.recipient, Unset):
            recipient = UNSET
        else:
            recipient = self.recipient

        sender: None | str | Unset
        if isinstance(self.sender, Unset):
            sender = UNSET
        else:
            sender = self.sender

        state: None | str | Unset
        if isinstance(self.state, Unset):
            state = UNSET
        elif isinstance(self.state, DeliveryState):
            state = self.state.value
        else:
            state = self.state

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if domain_id is not UNSET:
            field_dict["domain_id"] = domain_id
        if received_after is not UNSET:
            field_dict["received_after"] = received_after
        if received_before is not UNSET:
            field_dict["received_before"] = received_before
        if recipient is not UNSET:
            field_dict["recipient"] = recipient
        if sender is not UNSET:
            field_dict["sender"] = sender
        if state is not UNSET:
            field_dict["state"] = state

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_domain_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        domain_id = _parse_domain_id(d.pop("domain_id", UNSET))

        def _parse_received_after(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                received_after_type_0 = datetime.datetime.fromisoformat(data)

                return received_after_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        received_after = _parse_received_after(d.pop("received_after", UNSET))

        def _parse_received_before(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                received_before_type_0 = datetime.datetime.fromisoformat(data)

                return received_before_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        received_before = _parse_received_before(d.pop("received_before", UNSET))

        def _parse_recipient(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        recipient = _parse_recipient(d.pop("recipient", UNSET))

        def _parse_sender(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        sender = _parse_sender(d.pop("sender", UNSET))

        def _parse_state(data: object) -> DeliveryState | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                state_type_1 = DeliveryState(data)

                return state_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DeliveryState | None | Unset, data)

        state = _parse_state(d.pop("state", UNSET))

        queue_filter_spec = cls(
            domain_id=domain_id,
            received_after=received_after,
            received_before=received_before,
            recipient=recipient,
            sender=sender,
            state=state,
        )

        return queue_filter_spec
