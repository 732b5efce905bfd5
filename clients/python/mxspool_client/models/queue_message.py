from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.delivery_attempt_view import DeliveryAttemptView
    from ..models.message_headers import MessageHeaders
    from ..models.queue_recipient import QueueRecipient


T = TypeVar("T", bound="QueueMessage")


@_attrs_define
class QueueMessage:
    """A queued message as the caller sees it.

    Example:
        {'attempts': [{'code': 451, 'delivery_id': 90211, 'duration_ms': 184, 'id': 7, 'outcome': 'deferred',
            'recipient': 'alice@customer.example', 'reply': '451 4.3.0 try later', 'started_at': '2026-11-28T10:00:01Z',
            'target_host': 'mail.customer.example', 'target_ip': '203.0.113.25', 'tls': True}], 'client_ip': '198.51.100.7',
            'headers': {'cc': None, 'date': 'Sat, 28 Nov 2026 10:59:58 +0100', 'from': 'Bob <bob@sender.example>',
            'message_id': '<q3@sender.example>', 'subject': 'Quarterly figures', 'to': 'alice@customer.example'}, 'helo':
            'mail.sender.example', 'id': 41877, 'received_at': '2026-11-28T10:00:00Z', 'recipients': [{'attempts': 1,
            'domain': 'customer.example', 'domain_id': 12, 'expires_at': '2026-12-03T10:00:00Z', 'id': 90211, 'last_code':
            451, 'last_reply': '451 4.3.0 try later', 'next_attempt_at': '2026-11-28T10:01:00Z', 'recipient':
            'alice@customer.example', 'state': 'deferred'}], 'sender': 'bob@sender.example', 'size': 5120, 'tls': True}

    Attributes:
        attempts (list[DeliveryAttemptView]): Delivery attempts for those recipients, newest first (at most 1000).
        client_ip (str): The SMTP client that handed the message to the relay.
        headers (MessageHeaders): A summary of a message's header, read from the stored message.
        helo (str): What that client said in HELO/EHLO.
        id (int): Primary key of `messages`; also the queue id given in the SMTP reply. Example: 42.
        received_at (datetime.datetime):
        recipients (list[QueueRecipient]): The recipients the caller sees, by id.
        sender (str): Envelope sender; empty for the null sender `<>`.
        size (int): Size in bytes, as relayed.
        tls (bool): Whether the message arrived over TLS.
    """

    attempts: list[DeliveryAttemptView]
    client_ip: str
    headers: MessageHeaders
    helo: str
    id: int
    received_at: datetime.datetime
    recipients: list[QueueRecipient]
    sender: str
    size: int
    tls: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = []
        for attempts_item_data in self.attempts:
            attempts_item = attempts_item_data.to_dict()
            attempts.append(attempts_item)

        client_ip = self.client_ip

        headers = self.headers.to_dict()

        helo = self.helo

        id = self.id

        received_at = self.received_at.isoformat()

        recipients = []
        for recipients_item_data in self.recipients:
            recipients_item = recipients_item_data.to_dict()
            recipients.append(recipients_item)

        sender = self.sender

        size = self.size

        tls = self.tls

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "client_ip": client_ip,
                "headers": headers,
                "helo": helo,
                "id": id,
                "received_at": received_at,
                "recipients": recipients,
                "sender": sender,
                "size": size,
                "tls": tls,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.delivery_attempt_view import DeliveryAttemptView  # noqa: PLC0415
        from ..models.message_headers import MessageHeaders  # noqa: PLC0415
        from ..models.queue_recipient import QueueRecipient  # noqa: PLC0415

        d = dict(src_dict)
        attempts = []
        _attempts = d.pop("attempts")
        for attempts_item_data in _attempts:
            attempts_item = DeliveryAttemptView.from_dict(attempts_item_data)

            attempts.append(attempts_item)

        client_ip = d.pop("client_ip")

        headers = MessageHeaders.from_dict(d.pop("headers"))

        helo = d.pop("helo")

        id = d.pop("id")

        received_at = datetime.datetime.fromisoformat(d.pop("received_at"))

        recipients = []
        _recipients = d.pop("recipients")
        for recipients_item_data in _recipients:
            recipients_item = QueueRecipient.from_dict(recipients_item_data)

            recipients.append(recipients_item)

        sender = d.pop("sender")

        size = d.pop("size")

        tls = d.pop("tls")

        queue_message = cls(
            attempts=attempts,
            client_ip=client_ip,
            headers=headers,
            helo=helo,
            id=id,
            received_at=received_at,
            recipients=recipients,
            sender=sender,
            size=size,
            tls=tls,
        )

        queue_message.additional_properties = d
        return queue_message

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
