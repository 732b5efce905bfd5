from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookView")


@_attrs_define
class WebhookView:
    """A webhook. Its secret appears only in the response that created or rotated it.

    Example:
        {'account_id': 7, 'created_at': '2026-11-28T10:00:00Z', 'description': 'pager', 'domain_ids': None, 'enabled':
            True, 'events': ['target.down', 'target.up', 'queue.threshold'], 'id': 4, 'queue_threshold_age_seconds': 3600,
            'queue_threshold_messages': 1000, 'secret': 'whsec_Q2x…', 'target_down_grace_seconds': 300, 'updated_at':
            '2026-11-28T10:00:00Z', 'url': 'https://hooks.example.com/mxspool'}

    Attributes:
        account_id (int): Primary key of `accounts`. Example: 42.
        created_at (datetime.datetime):
        enabled (bool):
        events (list[WebhookEventType]):
        id (int):
        target_down_grace_seconds (int): `target.down` is sent only when the target stayed down this long, and
            `target.up` only
            after such a down.
        updated_at (datetime.datetime):
        url (str):
        description (None | str | Unset):
        domain_ids (list[int] | None | Unset): When set, only events about these domains are sent.
        queue_threshold_age_seconds (int | None | Unset): `queue.threshold` when a domain's oldest waiting recipient is
            older than this.
        queue_threshold_messages (int | None | Unset): `queue.threshold` when a domain has more waiting recipients than
            this.
        secret (None | str | Unset): The signing secret (`whsec_…`): shown only on creation and rotation.
    """

    account_id: int
    created_at: datetime.datetime
    enabled: bool
    events: list[WebhookEventType]
    id: int
    target_down_grace_seconds: int
    updated_at: datetime.datetime
    url: str
    description: None | str | Unset = UNSET
    domain_ids: list[int] | None | Unset = UNSET
    queue_threshold_age_seconds: int | None | Unset = UNSET
    queue_threshold_messages: int | None | Unset = UNSET
    secret: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account_id = self.account_id

        created_at = self.created_at.isoformat()

        enabled = self.enabled

        events = []
        for events_item_data in self.events:
            events_item = events_item_data.value
            events.append(events_item)

        id = self.id

        target_down_grace_seconds = self.target_down_grace_seconds

        updated_at = self.updated_at.isoformat()

        url = self.url

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        domain_ids: list[int] | None | Unset
        if isinstance(self.domain_ids, Unset):
            domain_ids = UNSET
        elif isinstance(self.domain_ids, list):
            domain_ids = self.domain_ids

        else:
            domain_ids = self.domain_ids

        queue_threshold_age_seconds: int | None | Unset
        if isinstance(self.queue_threshold_age_seconds, Unset):
            queue_threshold_age_seconds = UNSET
        else:
            queue_threshold_age_seconds = self.queue_threshold_age_seconds

        queue_threshold_messages: int | None | Unset
        if isinstance(self.queue_threshold_messages, Unset):
            queue_threshold_messages = UNSET
        else:
            queue_threshold_messages = self.queue_threshold_messages

        secret: None | str | Unset
        if isinstance(self.secret, Unset):
            secret = UNSET
        else:
            secret = self.secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account_id": account_id,
                "created_at": created_at,
                "enabled": enabled,
                "events": events,
                "id": id,
                "target_down_grace_seconds": target_down_grace_seconds,
                "updated_at": updated_at,
                "url": url,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if domain_ids is not UNSET:
            field_dict["domain_ids"] = domain_ids
        if queue_threshold_age_seconds is not UNSET:
            field_dict["queue_threshold_age_seconds"] = queue_threshold_age_seconds
        if queue_threshold_messages is not UNSET:
            field_dict["queue_threshold_messages"] = queue_threshold_messages
        if secret is not UNSET:
            field_dict["secret"] = secret

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        account_id = d.pop("account_id")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        enabled = d.pop("enabled")

        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = WebhookEventType(events_item_data)

            events.append(events_item)

        id = d.pop("id")

        target_down_grace_seconds = d.pop("target_down_grace_seconds")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        url = d.pop("url")

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        def _parse_domain_ids(data: object) -> list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                domain_ids_type_0 = cast(list[int], data)

                return domain_ids_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None | Unset, data)

        domain_ids = _parse_domain_ids(d.pop("domain_ids", UNSET))

        def _parse_queue_threshold_age_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        queue_threshold_age_seconds = _parse_queue_threshold_age_seconds(d.pop("queue_threshold_age_seconds", UNSET))

        def _parse_queue_threshold_messages(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        queue_threshold_messages = _parse_queue_threshold_messages(d.pop("queue_threshold_messages", UNSET))

        def _parse_secret(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        secret = _parse_secret(d.pop("secret", UNSET))

        webhook_view = cls(
            account_id=account_id,
            created_at=created_at,
            enabled=enabled,
            events=events,
            id=id,
            target_down_grace_seconds=target_down_grace_seconds,
            updated_at=updated_at,
            url=url,
            description=description,
            domain_ids=domain_ids,
            queue_threshold_age_seconds=queue_threshold_age_seconds,
            queue_threshold_messages=queue_threshold_messages,
            secret=secret,
        )

        webhook_view.additional_properties = d
        return webhook_view

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
