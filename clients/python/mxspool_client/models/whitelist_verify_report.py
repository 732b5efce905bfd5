from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.whitelist_probe_result import WhitelistProbeResult


T = TypeVar("T", bound="WhitelistVerifyReport")


@_attrs_define
class WhitelistVerifyReport:
    """`POST /domains/{id}/whitelist/verify`: one probe per egress address.

    Example:
        {'domain': 'customer.example', 'domain_id': 12, 'recipient': 'postmaster@customer.example', 'results':
            [{'checked_at': '2026-11-28T10:05:00Z', 'code': 250, 'duration_ms': 41, 'outcome': 'accepted', 'reply': '250
            2.1.5 Ok', 'source_ip': '192.0.2.25', 'stage': 'rcpt', 'target_ip': '203.0.113.10', 'transcript': [{'command':
            None, 'reply': '220 mail.customer.example ESMTP'}, {'command': 'EHLO backup-mx.example.net', 'reply': '250
            mail.customer.example PIPELINING SIZE 10240000'}, {'command': 'MAIL FROM:<>', 'reply': '250 2.1.0 Ok'},
            {'command': 'RCPT TO:<postmaster@customer.example>', 'reply': '250 2.1.5 Ok'}]}, {'checked_at':
            '2026-11-28T10:05:00Z', 'code': None, 'duration_ms': 0, 'outcome': 'error', 'reply': 'cannot send from
            2001:db8::25: this host cannot bind it (Cannot assign requested address (os error 99))', 'source_ip':
            '2001:db8::25', 'stage': 'bind', 'target_ip': None, 'transcript': []}], 'target_host': 'mail.customer.example',
            'target_port': 25}

    Attributes:
        domain (str):
        domain_id (int): Primary key of `relay_domains`. Example: 42.
        recipient (str): The test recipient asked for at RCPT: `postmaster@<domain>` (RFC 5321 requires it).
        results (list[WhitelistProbeResult]):
        target_host (str):
        target_port (int):
    """

    domain: str
    domain_id: int
    recipient: str
    results: list[WhitelistProbeResult]
    target_host: str
    target_port: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        domain = self.domain

        domain_id = self.domain_id

        recipient = self.recipient

        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)

        target_host = self.target_host

        target_port = self.target_port

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "domain": domain,
                "domain_id": domain_id,
                "recipient": recipient,
                "results": results,
                "target_host": target_host,
                "target_port": target_port,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.whitelist_probe_result import WhitelistProbeResult  # noqa: PLC0415

        d = dict(src_dict)
        domain = d.pop("domain")

        domain_id = d.pop("domain_id")

        recipient = d.pop("recipient")

        results = []
        _results = d.pop("results")
        for results_item_data in _results:
            results_item = WhitelistProbeResult.from_dict(results_item_data)

            results.append(results_item)

        target_host = d.pop("target_host")

        target_port = d.pop("target_port")

        whitelist_verify_report = cls(
            domain=domain,
            domain_id=domain_id,
            recipient=recipient,
            results=results,
            target_host=target_host,
            target_port=target_port,
        )

        whitelist_verify_report.additional_properties = d
        return whitelist_verify_report

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
