from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.recipient_policy import RecipientPolicy
from ..models.tls_policy import TlsPolicy
from ..models.verify_fallback import VerifyFallback
from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdateDomain")


@_attrs_define
class UpdateDomain:
    """Changes to a relay domain; absent fields stay as they are.

    Example:
        {'enabled': False, 'target_host': 'mx2.customer.example'}

    Attributes:
        accept_only_when_primary_down (bool | None | Unset):
        enabled (bool | None | Unset):
        max_message_size (int | None | Unset):
        name (None | str | Unset): Operators and the owner only. The same rules as a new domain's `name`.
        owner_id (int | None | Unset):
        queue_lifetime_seconds (int | None | Unset):
        recipient_policy (None | RecipientPolicy | Unset):
        target_host (None | str | Unset): The same rules as a new domain's `target_host`.
        target_port (int | None | Unset):
        tls_policy (None | TlsPolicy | Unset):
        verify_fallback (None | Unset | VerifyFallback):
        verify_invalid_ttl_seconds (int | None | Unset): Seconds, 60 to 2592000.
        verify_valid_ttl_seconds (int | None | Unset): Seconds, 60 to 2592000.
    """

    accept_only_when_primary_down: bool | None | Unset = UNSET
    enabled: bool | None | Unset = UNSET
    max_message_size: int | None | Unset = UNSET
    name: None | str | Unset = UNSET
    owner_id: int | None | Unset = UNSET
    queue_lifetime_seconds: int | None | Unset = UNSET
    recipient_policy: None | RecipientPolicy | Unset = UNSET
    target_host: None | str | Unset = UNSET
    target_port: int | None | Unset = UNSET
    tls_policy: None | TlsPolicy | Unset = UNSET
    verify_fallback: None | Unset | VerifyFallback = UNSET
    verify_invalid_ttl_seconds: int | None | Unset = UNSET
    verify_valid_ttl_seconds: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        accept_only_when_primary_down: bool | None | Unset
        if isinstance(self.accept_only_when_primary_down, Unset):
            accept_only_when_primary_down = UNSET
        else:
            accept_only_when_primary_down = self.accept_only_when_primary_down

        enabled: bool | None | Unset
        if isinstance(self.enabled, Unset):
            enabled = UNSET
        else:
            enabled = self.enabled

        max_message_size: int | None | Unset
        if isinstance(self.max_message_size, Unset):
            max_message_size = UNSET
        else:
            max_message_size = self.max_message_size

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        owner_id: int | None | Unset
        if isinstance(self.owner_id, Unset):
            owner_id = UNSET
        else:
            owner_id = self.owner_id

        queue_lifetime_seconds: int | None | Unset
        if isinstance(self.queue_lifetime_seconds, Unset):
            queue_lifetime_seconds = UNSET
        else:
            queue_lifetime_seconds = self.queue_lifetime_seconds

        recipient_policy: None | str | Unset
        if isinstance(self.recipient_policy, Unset):
            recipient_policy = UNSET
        elif isinstance(self.recipient_policy, RecipientPolicy):
            recipient_policy = self.recipient_policy.value
        else:
            recipient_policy = self.recipient_policy

        target_host: None | str | Unset
        if isinstance(self.target_host, Unset):
            target_host = UNSET
        else:
            target_host = self.target_host

        target_port: int | None | Unset
        if isinstance(self.target_port, Unset):
            target_port = UNSET
        else:
            target_port = self.target_port

        tls_policy: None | str | Unset
        if isinstance(self.tls_policy, Unset):
            tls_policy = UNSET
        elif isinstance(self.tls_policy, TlsPolicy):
            tls_policy = self.tls_policy.value
        else:
            tls_policy = self.tls_policy

        verify_fallback: None | str | Unset
        if isinstance(self.verify_fallback, Unset):
            verify_fallback = UNSET
        elif isinstance(self.verify_fallback, VerifyFallback):
            verify_fallback = self.verify_fallback.value
        else:
            verify_fallback = self.verify_fallback

        verify_invalid_ttl_seconds: int | None | Unset
        if isinstance(self.verify_invalid_ttl_seconds, Unset):
            verify_invalid_ttl_seconds = UNSET
        else:
            verify_invalid_ttl_seconds = self.verify_invalid_ttl_seconds

        verify_valid_ttl_seconds: int | None | Unset
        if isinstance(self.verify_valid_ttl_seconds, Unset):
            verify_valid_ttl_seconds = UNSET
        else:
            verify_valid_ttl_seconds = self.verify_valid_ttl_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if accept_only_when_primary_down is not UNSET:
            field_dict["accept_only_when_primary_down"] = accept_only_when_primary_down
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if max_message_size is not UNSET:
            field_dict["max_message_size"] = max_message_size
        if name is not UNSET:
            field_dict["name"] = name
        if owner_id is not UNSET:
            field_dict["owner_id"] = owner_id
        if queue_lifetime_seconds is not UNSET:
            field_dict["queue_lifetime_seconds"] = queue_lifetime_seconds
        if recipient_policy is not UNSET:
            field_dict["recipient_policy"] = recipient_policy
        if target_host is not UNSET:
            field_dict["target_host"] = target_host
        if target_port is not UNSET:
            field_dict["target_port"] = target_port
        if tls_policy is not UNSET:
            field_dict["tls_policy"] = tls_policy
        if verify_fallback is not UNSET:
            field_dict["verify_fallback"] = verify_fallback
        if verify_invalid_ttl_seconds is not UNSET:
            field_dict["verify_invalid_ttl_seconds"] = verify_invalid_ttl_seconds
        if verify_valid_ttl_seconds is not UNSET:
            field_dict["verify_valid_ttl_seconds"] = verify_valid_ttl_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_accept_only_when_primary_down(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        accept_only_when_primary_down = _parse_accept_only_when_primary_down(
            d.pop("accept_only_when_primary_down", UNSET)
        )

        def _parse_enabled(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        enabled = _parse_enabled(d.pop("enabled", UNSET))

        def _parse_max_message_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_message_size = _parse_max_message_size(d.pop("max_message_size", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_owner_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        owner_id = _parse_owner_id(d.pop("owner_id", UNSET))

        def _parse_queue_lifetime_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        queue_lifetime_seconds = _parse_queue_lifetime_seconds(d.pop("queue_lifetime_seconds", UNSET))

        def _parse_recipient_policy(data: object) -> None | RecipientPolicy | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                recipient_policy_type_1 = RecipientPolicy(data)

                return recipient_policy_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RecipientPolicy | Unset, data)

        recipient_policy = _parse_recipient_policy(d.pop("recipient_policy", UNSET))

        def _parse_target_host(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        target_host = _parse_target_host(d.pop("target_host", UNSET))

        def _parse_target_port(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        target_port = _parse_target_port(d.pop("target_port", UNSET))

        def _parse_tls_policy(data: object) -> None | TlsPolicy | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                tls_policy_type_1 = TlsPolicy(data)

                return tls_policy_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TlsPolicy | Unset, data)

        tls_policy = _parse_tls_policy(d.pop("tls_policy", UNSET))

        def _parse_verify_fallback(data: object) -> None | Unset | VerifyFallback:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                verify_fallback_type_1 = VerifyFallback(data)

                return verify_fallback_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | VerifyFallback, data)

        verify_fallback = _parse_verify_fallback(d.pop("verify_fallback", UNSET))

        def _parse_verify_invalid_ttl_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        verify_invalid_ttl_seconds = _parse_verify_invalid_ttl_seconds(d.pop("verify_invalid_ttl_seconds", UNSET))

        def _parse_verify_valid_ttl_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        verify_valid_ttl_seconds = _parse_verify_valid_ttl_seconds(d.pop("verify_valid_ttl_seconds", UNSET))

        update_domain = cls(
            accept_only_when_primary_down=accept_only_when_primary_down,
            enabled=enabled,
            max_message_size=max_message_size,
            name=name,
            owner_id=owner_id,
            queue_lifetime_seconds=queue_lifetime_seconds,
            recipient_policy=recipient_policy,
            target_host=target_host,
            target_port=target_port,
            tls_policy=tls_policy,
            verify_fallback=verify_fallback,
            verify_invalid_ttl_seconds=verify_invalid_ttl_seconds,
            verify_valid_ttl_seconds=verify_valid_ttl_seconds,
        )

        return update_domain
