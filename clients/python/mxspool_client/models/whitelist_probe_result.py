from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.whitelist_probe_outcome import WhitelistProbeOutcome
from ..models.whitelist_probe_stage import WhitelistProbeStage
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.whitelist_transcript_line import WhitelistTranscriptLine


T = TypeVar("T", bound="WhitelistProbeResult")


@_attrs_define
class WhitelistProbeResult:
    """The result of one probe, as stored and returned.

    Attributes:
        checked_at (datetime.datetime):
        duration_ms (int):
        outcome (WhitelistProbeOutcome): How a probe ended.
        reply (str): The last reply, or what went wrong (e.g. the address cannot be bound on this host).
        source_ip (str): The egress address the session was opened from.
        stage (WhitelistProbeStage): The step a probe ended at.
        transcript (list[WhitelistTranscriptLine]): Each command sent and the reply to it, the greeting first.
        code (int | None | Unset): The last reply code; null when no reply came.
        target_ip (None | str | Unset): The target address connected to (null when none could be chosen).
    """

    checked_at: datetime.datetime
    duration_ms: int
    outcome: WhitelistProbeOutcome
    reply: str
    source_ip: str
    stage: WhitelistProbeStage
    transcript: list[WhitelistTranscriptLine]
    code: int | None | Unset = UNSET
    target_ip: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        checked_at = self.checked_at.isoformat()

        duration_ms = self.duration_ms

        outcome = self.outcome.value

        reply = self.reply

        source_ip = self.source_ip

        stage = self.stage.value

        transcript = []
        for transcript_item_data in self.transcript:
            transcript_item = transcript_item_data.to_dict()
            transcript.append(transcript_item)

        code: int | None | Unset
        if isinstance(self.code, Unset):
            code = UNSET
        else:
            code = self.code

        target_ip: None | str | Unset
        if isinstance(self.target_ip, Unset):
            target_ip = UNSET
        else:
            target_ip = self.target_ip

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "checked_at": checked_at,
                "duration_ms": duration_ms,
                "outcome": outcome,
                "reply": reply,
                "source_ip": source_ip,
                "stage": stage,
                "transcript": transcript,
            }
        )
        if code is not UNSET:
            field_dict["code"] = code
        if target_ip is not UNSET:
            field_dict["target_ip"] = target_ip

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.whitelist_transcript_line import WhitelistTranscriptLine  # noqa: PLC0415

        d = dict(src_dict)
        checked_at = datetime.datetime.fromisoformat(d.pop("checked_at"))

        duration_ms = d.pop("duration_ms")

        outcome = WhitelistProbeOutcome(d.pop("outcome"))

        reply = d.pop("reply")

        source_ip = d.pop("source_ip")

        stage = WhitelistProbeStage(d.pop("stage"))

        transcript = []
        _transcript = d.pop("transcript")
        for transcript_item_data in _transcript:
            transcript_item = WhitelistTranscriptLine.from_dict(transcript_item_data)

            transcript.append(transcript_item)

        def _parse_code(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        code = _parse_code(d.pop("code", UNSET))

        def _parse_target_ip(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        target_ip = _parse_target_ip(d.pop("target_ip", UNSET))

        whitelist_probe_result = cls(
            checked_at=checked_at,
            duration_ms=duration_ms,
            outcome=outcome,
            reply=reply,
            source_ip=source_ip,
            stage=stage,
            transcript=transcript,
            code=code,
            target_ip=target_ip,
        )

        whitelist_probe_result.additional_properties = d
        return whitelist_probe_result

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
