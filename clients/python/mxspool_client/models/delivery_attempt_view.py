from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.attempt_outcome import AttemptOutcome
from ..types import UNSET, Unset

T = TypeVar("T", bound="DeliveryAttemptView")


@_attrs_define
class DeliveryAttemptView:
    """One recorded delivery attempt.

    Attributes:
        delivery_id (int): The delivery (recipient) it was for.
        duration_ms (int):
        id (int):
        outcome (AttemptOutcome): How a delivery attempt ended.
        recipient (str):
        reply (str):
        started_at (datetime.datetime):
        target_host (str):
        tls (bool): Whether the session used TLS.
        code (int | None | Unset): SMTP reply code; `null` when no reply came (connection failure).
        target_ip (None | str | Unset): The address connected to; `null` when none was reached (e.g. DNS failure).
    """

    delivery_id: int
    duration_ms: int
    id: int
    outcome: AttemptOutcome
    recipient: str
    reply: str
    started_at: datetime.datetime
    target_host: str
    tls: bool
    code: int | None | Unset = UNSET
    target_ip: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        delivery_id = self.delivery_id

        duration_ms = self.duration_ms

        id = self.id

        outcome = self.outcome.value

        recipient = self.recipient

        reply = self.reply

        started_at = self.started_at.isoformat()

        target_host = self.target_host

        tls = self.tls

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
                "delivery_id": delivery_id,
                "duration_ms": duration_ms,
                "id": id,
                "outcome": outcome,
                "recipient": recipient,
                "reply": reply,
                "started_at": started_at,
                "target_host": target_host,
                "tls": tls,
            }
        )
        if code is not UNSET:
            field_dict["code"] = code
        if target_ip is not UNSET:
            field_dict["target_ip"] = target_ip

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        delivery_id = d.pop("delivery_id")

        duration_ms = d.pop("duration_ms")

        id = d.pop("id")

        outcome = AttemptOutcome(d.pop("outcome"))

        recipient = d.pop("recipient")

        reply = d.pop("reply")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        target_host = d.pop("target_host")

        tls = d.pop("tls")

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

        delivery_attempt_view = cls(
            delivery_id=delivery_id,
            duration_ms=duration_ms,
            id=id,
            outcome=outcome,
            recipient=recipient,
            reply=reply,
            started_at=started_at,
            target_host=target_host,
            tls=tls,
            code=code,
            target_ip=target_ip,
        )

        delivery_attempt_view.additional_properties = d
        return delivery_attempt_view

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
