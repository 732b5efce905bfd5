from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_delivery_status import WebhookDeliveryStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookDeliveryView")


@_attrs_define
class WebhookDeliveryView:
    """One event sent (or to be sent) to one webhook.

    Example:
        {'attempts': 8, 'created_at': '2026-11-28T10:00:00Z', 'event_id': 3310, 'event_type': 'message.bounced', 'id':
            812, 'last_attempt_at': '2026-11-28T23:40:00Z', 'last_error': 'HTTP status 500', 'last_response': 'internal
            error', 'last_status_code': 500, 'next_attempt_at': None, 'payload': {'created_at': '2026-11-28T10:00:00Z',
            'data': {'recipient': 'bob@example.com'}, 'id': 3310, 'type': 'message.bounced'}, 'status': 'failed',
            'webhook_id': 4}

    Attributes:
        attempts (int): Attempts made so far.
        created_at (datetime.datetime):
        event_type (str): `target.down`, …, or `ping` for test deliveries.
        id (int):
        payload (Any): The JSON body sent.
        status (WebhookDeliveryStatus): What became of a delivery.
        webhook_id (int):
        event_id (int | None | Unset): The event's id (the payload's `id`): the same for every webhook that got the
            event.
        last_attempt_at (datetime.datetime | None | Unset):
        last_error (None | str | Unset): Why the last attempt failed.
        last_response (None | str | Unset): The start of the last answer's body (at most 1 KiB).
        last_status_code (int | None | Unset): The HTTP status of the last answer, if one came.
        next_attempt_at (datetime.datetime | None | Unset): When the next attempt is due (pending deliveries only).
    """

    attempts: int
    created_at: datetime.datetime
    event_type: str
    id: int
    payload: Any
    status: WebhookDeliveryStatus
    webhook_id: int
    event_id: int | None | Unset = UNSET
    last_attempt_at: datetime.datetime | None | Unset = UNSET
    last_error: None | str | Unset = UNSET
    last_response: None | str | Unset = UNSET
    last_status_code: int | None | Unset = UNSET
    next_attempt_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        created_at = self.created_at.isoformat()

        event_type = self.event_type

        id = self.id

        payload = self.payload

        status = self.status.value

        webhook_id = self.webhook_id

        event_id: int | None | Unset
        if isinstance(self.event_id, Unset):
            event_id = UNSET
        else:
            event_id = self.event_id

        last_attempt_at: None | str | Unset
        if isinstance(self.last_attempt_at, Unset):
            last_attempt_at = UNSET
        elif isinstance(self.last_attempt_at, datetime.datetime):
            last_attempt_at = self.last_attempt_at.isoformat()
        else:
            last_attempt_at = self.last_attempt_at

        last_error: None | str | Unset
        if isinstance(self.last_error, Unset):
            last_error = UNSET
        else:
            last_error = self.last_error

        last_response: None | str | Unset
        if isinstance(self.last_response, Unset):
            last_response = UNSET
        else:
            last_response = self.last_response

        last_status_code: int | None | Unset
        if isinstance(self.last_status_code, Unset):
            last_status_code = UNSET
        else:
            last_status_code = self.last_status_code

        next_attempt_at: None | str | Unset
        if isinstance(self.next_attempt_at, Unset):
            next_attempt_at = UNSET
        elif isinstance(self.next_attempt_at, datetime.datetime):
            next_attempt_at = self.next_attempt_at.isoformat()
        else:
            next_attempt_at = self.next_attempt_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "created_at": created_at,
                "event_type": event_type,
                "id": id,
                "payload": payload,
                "status": status,
                "webhook_id": webhook_id,
            }
        )
        if event_id is not UNSET:
            field_dict["event_id"] = event_id
        if last_attempt_at is not UNSET:
            field_dict["last_attempt_at"] = last_attempt_at
        if last_error is not UNSET:
            field_dict["last_error"] = last_error
        if last_response is not UNSET:
            field_dict["last_response"] = last_response
        if last_status_code is not UNSET:
            field_dict["last_status_code"] = last_status_code
        if next_attempt_at is not UNSET:
            field_dict["next_attempt_at"] = next_attempt_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempts = d.pop("attempts")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        event_type = d.pop("event_type")

        id = d.pop("id")

        payload = d.pop("payload")

        status = WebhookDeliveryStatus(d.pop("status"))

        webhook_id = d.pop("webhook_id")

        def _parse_event_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        event_id = _parse_event_id(d.pop("event_id", UNSET))

        def _parse_last_attempt_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_attempt_at = _parse_last_attempt_at(d.pop("last_attempt_at", UNSET))

        def _parse_last_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_error = _parse_last_error(d.pop("last_error", UNSET))

        def _parse_last_response(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_response = _parse_last_response(d.pop("last_response", UNSET))

        def _parse_last_status_code(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        last_status_code = _parse_last_status_code(d.pop("last_status_code", UNSET))

        def _parse_next_attempt_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("next_attempt_at", UNSET))

        webhook_delivery_view = cls(
            attempts=attempts,
            created_at=created_at,
            event_type=event_type,
            id=id,
            payload=payload,
            status=status,
            webhook_id=webhook_id,
            event_id=event_id,
            last_attempt_at=last_attempt_at,
            last_error=last_error,
            last_response=last_response,
            last_status_code=last_status_code,
            next_attempt_at=next_attempt_at,
        )

        webhook_delivery_view.additional_properties = d
        return webhook_delivery_view

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
