from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="RecipientList")


@_attrs_define
class RecipientList:
    """A list of addresses: the whole new list (`PUT`) or addresses to add (`POST`).

    Example:
        {'recipients': ['alice', 'Bob', 'sales']}

    Attributes:
        recipients (list[str]): Up to 100,000 local parts (`user`, meaning `user@` this domain), or full addresses of
            this domain (`user@customer.example`; an address of another domain is refused). Case
            does not matter; duplicates count once.
    """

    recipients: list[str]

    def to_dict(self) -> dict[str, Any]:
        recipients = self.recipients

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "recipients": recipients,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        recipients = cast(list[str], d.pop("recipients"))

        recipient_list = cls(
            recipients=recipients,
        )

        return recipient_list
