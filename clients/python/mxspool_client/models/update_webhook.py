from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdateWebhook")


@_attrs_define
class UpdateWebhook:
    """Changes to a webhook; absent fields stay, `null` clears the nullable ones.

    Example:
        {'enabled': False, 'queue_threshold_messages': None, 'rotate_secret': True}

    Attributes:
        description (None | str | Unset):
        domain_ids (list[int] | None | Unset): 1 to 1000 domains, or `null` for every domain the account sees.
        enabled (bool | None | Unset):
        events (list[WebhookEventType] | None | Unset): At least one event type.
        queue_threshold_age_seconds (int | None | Unset): 60 to 2,592,000 (30 days), or `null` to clear.
        queue_threshold_messages (int | None | Unset): 1 to 10,000,000, or `null` to clear.
        rotate_secret (bool | None | Unset): Replace the signing secret; the new one is in the response, only there.
        target_down_grace_seconds (int | None | Unset): 0 to 86400.
        url (None | str | Unset): The same rules as a new webhook's `url`.
    """

    description: None | str | Unset = UNSET
    domain_ids: list[int] | None | Unset = UNSET
    enabled: bool | None | Unset = UNSET
    events: list[WebhookEventType] | None | Unset = UNSET
    queue_threshold_age_seconds: int | None | Unset = UNSET
    queue_threshold_messages: int | None | Unset = UNSET
    rotate_secret: bool | None | Unset = UNSET
    target_down_grace_seconds: int | None | Unset = UNSET
    url: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
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

        events: list[str] | None | Unset
        if isinstance(self.events, Unset):
            events = UNSET
        elif isinstance(self.events, list):
            events = []
            for events_type_0_item_data in self.events:
                events_type_0_item = events_type_0_item_data.value
                events.append(events_type_0_item)

        else:
            events = self.events

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

        rotate_secret: bool | None | Unset
        if isinstance(self.rotate_secret, Unset):
            rotate_secret = UNSET
        else:
            rotate_secret = self.rotate_secret

        target_down_grace_seconds: int | None | Unset
        if isinstance(self.target_down_grace_seconds, Unset):
            target_down_grace_seconds = UNSET
        else:
            target_down_grace_seconds = self.target_down_grace_seconds

        url: None | str | Unset
        if isinstance(self.url, Unset):
            url = UNSET
        else:
            url = self.url

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if description is not UNSET:
            field_dict["description"] = description
        if domain_ids is not UNSET:
            field_dict["domain_ids"] = domain_ids
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if events is not UNSET:
            field_dict["events"] = events
        if queue_threshold_age_seconds is not UNSET:
            field_dict["queue_threshold_age_seconds"] = queue_threshold_age_seconds
        if queue_threshold_messages is not UNSET:
            field_dict["queue_threshold_messages"] = queue_threshold_messages
        if rotate_secret is not UNSET:
            field_dict["rotate_secret"] = rotate_secret
        if target_down_grace_seconds is not UNSET:
            field_dict["target_down_grace_seconds"] = target_down_grace_seconds
        if url is not UNSET:
            field_dict["url"] = url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

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

        def _parse_events(data: object) -> list[WebhookEventType] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                events_type_0 = []
                _events_type_0 = data
                for events_type_0_item_data in _events_type_0:
                    events_type_0_item = WebhookEventType(events_type_0_item_data)

                    events_type_0.append(events_type_0_item)

                return events_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[WebhookEventType] | None | Unset, data)

        events = _parse_events(d.pop("events", UNSET))

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

        def _parse_rotate_secret(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        rotate_secret = _parse_rotate_secret(d.pop("rotate_secret", UNSET))

        def _parse_target_down_grace_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        target_down_grace_seconds = _parse_target_down_grace_seconds(d.pop("target_down_grace_seconds", UNSET))

        def _parse_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        url = _parse_url(d.pop("url", UNSET))

        update_webhook = cls(
            description=description,
            domain_ids=domain_ids,
            enabled=enabled,
            events=events,
            queue_threshold_age_seconds=queue_threshold_age_seconds,
            queue_threshold_messages=queue_threshold_messages,
            rotate_secret=rotate_secret,
            target_down_grace_seconds=target_down_grace_seconds,
            url=url,
        )

        return update_webhook
