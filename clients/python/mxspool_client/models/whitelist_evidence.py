from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.whitelist_evidence_source import WhitelistEvidenceSource
from ..types import UNSET, Unset

T = TypeVar("T", bound="WhitelistEvidence")


@_attrs_define
class WhitelistEvidence:
    """One reply the target gave the address (or a failure to get one).

    Attributes:
        at (datetime.datetime):
        recent (bool): Within the recent window, so it counts for the verdict.
        reply (str): The reply as the target sent it, or what went wrong.
        source (WhitelistEvidenceSource): Where an evidence item comes from.
        code (int | None | Unset): SMTP reply code; null when no reply came (connection failure, timeout, no bind).
        stage (None | str | Unset): Verify probes: the step the session ended at (`bind`, `resolve`, `connect`,
            `greeting`, `ehlo`, `mail`, `rcpt`).
        target_ip (None | str | Unset): The target address connected to.
    """

    at: datetime.datetime
    recent: bool
    reply: str
    source: WhitelistEvidenceSource
    code: int | None | Unset = UNSET
    stage: None | str | Unset = UNSET
    target_ip: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        recent = self.recent

        reply = self.reply

        source = self.source.value

        code: int | None | Unset
        if isinstance(self.code, Unset):
            code = UNSET
        else:
            code = self.code

        stage: None | str | Unset
        if isinstance(self.stage, Unset):
            stage = UNSET
        else:
            stage = self.stage

        target_ip: None | str | Unset
        if isinstance(self.target_ip, Unset):
            target_ip = UNSET
        else:
            target_ip = self.target_ip

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "recent": recent,
                "reply": reply,
                "source": source,
            }
        )
        if code is not UNSET:
            field_dict["code"] = code
        if stage is not UNSET:
            field_dict["stage"] = stage
        if target_ip is not UNSET:
            field_dict["target_ip"] = target_ip

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        recent = d.pop("recent")

        reply = d.pop("reply")

        source = WhitelistEvidenceSource(d.pop("source"))

        def _parse_code(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        code = _parse_code(d.pop("code", UNSET))

        def _parse_stage(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        stage = _parse_stage(d.pop("stage", UNSET))

        def _parse_target_ip(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        target_ip = _parse_target_ip(d.pop("target_ip", UNSET))

        whitelist_evidence = cls(
            at=at,
            recent=recent,
            reply=reply,
            source=source,
            code=code,
            stage=stage,
            target_ip=target_ip,
        )

        whitelist_evidence.additional_properties = d
        return whitelist_evidence

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
