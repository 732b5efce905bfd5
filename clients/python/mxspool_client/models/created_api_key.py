from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.api_key_view import ApiKeyView


T = TypeVar("T", bound="CreatedApiKey")


@_attrs_define
class CreatedApiKey:
    """A newly created key: the only time its secret is shown.

    Example:
        {'key': {'account_id': 7, 'created_at': '2026-11-28T10:00:00Z', 'domain_ids': None, 'expires_at': None, 'id': 3,
            'last_used_at': None, 'name': 'deploy script', 'prefix': 'mxs_Ab12Cd34', 'scopes': ['read', 'write']}, 'secret':
            'mxs_Ab12Cd34…'}

    Attributes:
        key (ApiKeyView): An API key, without its secret.
        secret (str): Send as `Authorization: Bearer <secret>`. It cannot be shown again.
    """

    key: ApiKeyView
    secret: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        key = self.key.to_dict()

        secret = self.secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "key": key,
                "secret": secret,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.api_key_view import ApiKeyView  # noqa: PLC0415

        d = dict(src_dict)
        key = ApiKeyView.from_dict(d.pop("key"))

        secret = d.pop("secret")

        created_api_key = cls(
            key=key,
            secret=secret,
        )

        created_api_key.additional_properties = d
        return created_api_key

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
