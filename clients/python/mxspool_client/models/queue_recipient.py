from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.delivery_state import DeliveryState
from ..types import UNSET, Unset

T = TypeVar("T", bound="QueueRecipient")


@_attrs_define
class QueueRecipient:
    """One recipient of an inspected message.

    Attributes:
        attempts (int):
        expires_at (datetime.datetime):
        id (int): The delivery id.
        next_attempt_at (datetime.datetime):
        recipient (str):
        state (DeliveryState): Lifecycle of one recipient of one queued message.
        domain (None | str | Unset):
        domain_id (int | None | Unset):
        last_code (int | None | Unset):
        last_reply (None | str | Unset):
    """

    attempts: int
    expires_at: datetime.datetime
    id: int
    next_attempt_at: datetime.datetime
    recipient: str
    state: DeliveryState
    domain: None | str | Unset = UNSET
    domain_id: int | None | Unset = UNSET
    last_code: int | None | Unset = UNSET
    last_reply: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        expires_at = self.expires_at.isoformat()

        id = self.id

        next_attempt_at = self.next_attempt_at.isoformat()

        recipient = self.recipient

        state = self.state.value

        domain: None | str | Unset
        if isinstance(self.domain, Unset):
            domain = UNSET
        else:
            domain = self.domain

        domain_id: int | None | Unset
        if isinstance(self.domain_id, Unset):
            domain_id = UNSET
        else:
            domain_id = self.domain_id

        last_code: int | None | Unset
        if isinstance(self.last_code, Unset):
            last_code = UNSET
        else:
            last_code = self.last_code

        last_reply: None | str | Unset
        if isinstance(self.last_reply, Unset):
            last_reply = UNSET
        else:
            last_reply = self.last_reply

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "expires_at": expires_at,
                "id": id,
                "next_attempt_at": next_attempt_at,
                "recipient": recipient,
                "state": state,
            }
        )
        if domain is not UNSET:
            field_dict["domain"] = domain
        if domain_id is not UNSET:
            field_dict["domain_id"] = domain_id
        if last_code is not UNSET:
            field_dict["last_code"] = last_code
        if last_reply is not UNSET:
            field_dict["last_reply"] = last_reply

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempts = d.pop("attempts")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        id = d.pop("id")

        next_attempt_at = datetime.datetime.fromisoformat(d.pop("next_attempt_at"))

        recipient = d.pop("recipient")

        state = DeliveryState(d.pop("state"))

        def _parse_domain(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        domain = _parse_domain(d.pop("domain", UNSET))

        def _parse_domain_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        domain_id = _parse_domain_id(d.pop("domain_id", UNSET))

        def _parse_last_code(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        last_code = _parse_last_code(d.pop("last_code", UNSET))

        def _parse_last_reply(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_reply = _parse_last_reply(d.pop("last_reply", UNSET))

        queue_recipient = cls(
            attempts=attempts,
            expires_at=expires_at,
            id=id,
            next_attempt_at=next_attempt_at,
            recipient=recipient,
            state=state,
            domain=domain,
            domain_id=domain_id,
            last_code=last_code,
            last_reply=last_reply,
        )

        queue_recipient.additional_properties = d
        return queue_recipient

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
