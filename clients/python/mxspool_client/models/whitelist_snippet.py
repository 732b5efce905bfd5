from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="WhitelistSnippet")


@_attrs_define
class WhitelistSnippet:
    """One filter's allow-list entry.

    Attributes:
        id (str): Stable identifier: `postfix`, `exim`, `rspamd`, `spamassassin`, `microsoft365`,
            `nftables`, `iptables`.
        instructions (str): Where the text goes and what to run afterwards.
        label (str): Human label, e.g. `Postfix`.
        text (str): The configuration (or, for Microsoft 365, the steps) to paste.
    """

    id: str
    instructions: str
    label: str
    text: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        instructions = self.instructions

        label = self.label

        text = self.text

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "instructions": instructions,
                "label": label,
                "text": text,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        instructions = d.pop("instructions")

        label = d.pop("label")

        text = d.pop("text")

        whitelist_snippet = cls(
            id=id,
            instructions=instructions,
            label=label,
            text=text,
        )

        whitelist_snippet.additional_properties = d
        return whitelist_snippet

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
