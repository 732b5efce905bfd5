from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.whitelist_verdict import WhitelistVerdict

if TYPE_CHECKING:
    from ..models.whitelist_evidence import WhitelistEvidence


T = TypeVar("T", bound="WhitelistAddress")


@_attrs_define
class WhitelistAddress:
    """How one egress address fares with one domain's target.

    Example:
        {'evidence': [{'at': '2026-11-28T10:04:58Z', 'code': 554, 'recent': True, 'reply': '554 5.7.1 Client host
            [192.0.2.25] blocked using zen.spamhaus.org', 'source': 'verify', 'stage': 'rcpt', 'target_ip':
            '203.0.113.10'}], 'ip': '192.0.2.25', 'reason': 'the latest reply (verify, 2026-11-28T10:04:58Z) is a policy
            rejection: 554 5.7.1 Client host [192.0.2.25] blocked using zen.spamhaus.org', 'verdict': 'rejected'}

    Attributes:
        evidence (list[WhitelistEvidence]): The latest delivery attempts and verify probes from this address to the
            domain's
            current target host, newest first (at most 10; the recipients of one transaction
            count once).
        ip (str): The egress address.
        reason (str): The verdict in a sentence, naming the reply it rests on.
        verdict (WhitelistVerdict): How the domain's target treats mail from one egress address.
    """

    evidence: list[WhitelistEvidence]
    ip: str
    reason: str
    verdict: WhitelistVerdict
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        evidence = []
        for evidence_item_data in self.evidence:
            evidence_item = evidence_item_data.to_dict()
            evidence.append(evidence_item)

        ip = self.ip

        reason = self.reason

        verdict = self.verdict.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "evidence": evidence,
                "ip": ip,
                "reason": reason,
                "verdict": verdict,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.whitelist_evidence import WhitelistEvidence  # noqa: PLC0415

        d = dict(src_dict)
        evidence = []
        _evidence = d.pop("evidence")
        for evidence_item_data in _evidence:
            evidence_item = WhitelistEvidence.from_dict(evidence_item_data)

            evidence.append(evidence_item)

        ip = d.pop("ip")

        reason = d.pop("reason")

        verdict = WhitelistVerdict(d.pop("verdict"))

        whitelist_address = cls(
            evidence=evidence,
            ip=ip,
            reason=reason,
            verdict=verdict,
        )

        whitelist_address.additional_properties = d
        return whitelist_address

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
