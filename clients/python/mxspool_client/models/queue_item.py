from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.delivery_state import DeliveryState
from ..types import UNSET, Unset

T = TypeVar("T", bound="QueueItem")


@_attrs_define
class QueueItem:
    """One recipient of a queued message (a delivery), with its message's envelope.

    Example:
        {'attempts': 3, 'domain': 'customer.example', 'domain_id': 12, 'expires_at': '2026-12-03T10:00:00Z', 'id':
            90211, 'last_code': 451, 'last_reply': '451 4.3.0 mailbox temporarily unavailable', 'message_id': 41877,
            'next_attempt_at': '2026-11-28T10:15:00Z', 'received_at': '2026-11-28T10:00:00Z', 'recipient':
            'alice@customer.example', 'sender': 'bob@sender.example', 'size': 5120, 'state': 'deferred', 'subject':
            'Quarterly figures'}

    Attributes:
        attempts (int): Delivery attempts made so far.
        expires_at (datetime.datetime): When the recipient bounces as expired if still undelivered.
        id (int): The delivery (recipient) id.
        message_id (int): Primary key of `messages`; also the queue id given in the SMTP reply. Example: 42.
        next_attempt_at (datetime.datetime): When the relay tries next (for queued and deferred recipients).
        received_at (datetime.datetime):
        recipient (str):
        sender (str): Envelope sender; empty for the null sender `<>`.
        size (int): Message size in bytes.
        state (DeliveryState): Lifecycle of one recipient of one queued message.
        domain (None | str | Unset): The relay domain's name.
        domain_id (int | None | Unset):
        last_code (int | None | Unset): The target's last SMTP reply code; `null` before any reply.
        last_reply (None | str | Unset):
        subject (None | str | Unset):
    """

    attempts: int
    expires_at: datetime.datetime
    id: int
    message_id: int
    next_attempt_at: datetime.datetime
    received_at: datetime.datetime
    recipient: str
    sender: str
    size: int
    state: DeliveryState
    domain: None | str | Unset = UNSET
    domain_id: int | None | Unset = UNSET
    last_code: int | None | Unset = UNSET
    last_reply: None | str | Unset = UNSET
    subject: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        expires_at = self.expires_at.isoformat()

        id = self.id

        message_id = self.message_id

        next_attempt_at = self.next_attempt_at.isoformat()

        received_at = self.received_at.isoformat()

        recipient = self.recipient

        sender = self.sender

        size = self.size

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

        subject: None | str | Unset
        if isinstance(self.subject, Unset):
            subject = UNSET
        else:
            subject = self.subject

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "expires_at": expires_at,
                "id": id,
                "message_id": message_id,
                "next_attempt_at": next_attempt_at,
                "received_at": received_at,
                "recipient": recipient,
                "sender": sender,
                "size": size,
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
        if subject is not UNSET:
            field_dict["subject"] = subject

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempts = d.pop("attempts")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        id = d.pop("id")

        message_id = d.pop("message_id")

        next_attempt_at = datetime.datetime.fromisoformat(d.pop("next_attempt_at"))

        received_at = datetime.datetime.fromisoformat(d.pop("received_at"))

        recipient = d.pop("recipient")

        sender = d.pop("sender")

        size = d.pop("size")

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

        def _parse_subject(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        subject = _parse_subject(d.pop("subject", UNSET))

        queue_item = cls(
            attempts=attempts,
            expires_at=expires_at,
            id=id,
            message_id=message_id,
            next_attempt_at=next_attempt_at,
            received_at=received_at,
            recipient=recipient,
            sender=sender,
            size=size,
            state=state,
            domain=domain,
            domain_id=domain_id,
            last_code=last_code,
            last_reply=last_reply,
            subject=subject,
        )

        queue_item.additional_properties = d
        return queue_item

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
