from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateWebhook")


@_attrs_define
class CreateWebhook:
    """A new webhook.

    Example:
        {'description': 'pager', 'events': ['target.down', 'target.up', 'queue.threshold', 'message.bounced'],
            'queue_threshold_age_seconds': 3600, 'queue_threshold_messages': 1000, 'target_down_grace_seconds': 300, 'url':
            'https://hooks.example.com/mxspool'}

    Attributes:
        events (list[WebhookEventType]): The event types to send (at least one).
        url (str): Where events are POSTed: an absolute `http` or `https` URL of at most 2000 characters,
            without credentials or fragment, whose host is not a private or loopback address (unless
            the operator allows private targets). The pattern covers host names and IPv4 addresses
            with an optional port, path and query; other URLs the server can use are accepted too.
        description (None | str | Unset):
        domain_ids (list[int] | None | Unset): Only events about these domains (1 to 1000, which the account must be
            able to see);
            leave it out (or `null`) for events about every domain the account sees. An empty
            list is refused rather than read as "every domain", which it would look like it denies.
        enabled (bool | None | Unset): Default true.
        queue_threshold_age_seconds (int | None | Unset): 60 to 2,592,000 (30 days).
        queue_threshold_messages (int | None | Unset): 1 to 10,000,000.
        target_down_grace_seconds (int | None | Unset): 0 to 86400; default 300.
    """

    events: list[WebhookEventType]
    url: str
    description: None | str | Unset = UNSET
    domain_ids: list[int] | None | Unset = UNSET
    enabled: bool | None | Unset = UNSET
    queue_threshold_age_seconds: int | None | Unset = UNSET
    queue_threshold_messages: int | None | Unset = UNSET
    target_down_grace_seconds: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        events = []
        for events_item_data in self.events:
            events_item = events_item_data.value
            events.append(events_item)

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

        enabled: bool | None | Unset
        if isinstance(self.enabled, Unset):
            enabled = UNSET
        else:
            enabled = self.enabled

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

        target_down_grace_seconds: int | None | Unset
        if isinstance(self.target_down_grace_seconds, Unset):
            target_down_grace_seconds = UNSET
        else:
            target_down_grace_seconds = self.target_down_grace_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "events": events,
                "url": url,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if domain_ids is not UNSET:
            field_dict["domain_ids"] = domain_ids
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if queue_threshold_age_seconds is not UNSET:
            field_dict["queue_threshold_age_seconds"] = queue_threshold_age_seconds
        if queue_threshold_messages is not UNSET:
            field_dict["queue_threshold_messages"] = queue_threshold_messages
        if target_down_grace_seconds is not UNSET:
            field_dict["target_down_grace_seconds"] = target_down_grace_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = WebhookEventType(events_item_data)

            events.append(events_item)

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

        def _parse_enabled(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        enabled = _parse_enabled(d.pop("enabled", UNSET))

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

        def _parse_target_down_grace_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        target_down_grace_seconds = _parse_target_down_grace_seconds(d.pop("target_down_grace_seconds", UNSET))

        create_webhook = cls(
            events=events,
            url=url,
            description=description,
            domain_ids=domain_ids,
            enabled=enabled,
            queue_threshold_age_seconds=queue_threshold_age_seconds,
            queue_threshold_messages=queue_threshold_messages,
            target_down_grace_seconds=target_down_grace_seconds,
        )

        return create_webhook
