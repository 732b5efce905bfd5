from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.egress_source import EgressSource
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.domain_whitelist import DomainWhitelist
    from ..models.egress_address import EgressAddress
    from ..models.whitelist_snippet import WhitelistSnippet


T = TypeVar("T", bound="WhitelistReport")


@_attrs_define
class WhitelistReport:
    """`GET /domains/{id}/whitelist`: what to allow on the domain's primary, and how the primary
    treats mxspool's addresses today.

        Example:
            {'backup_mx_hostname': 'backup-mx.example.net', 'domain': {'addresses': [{'evidence': [{'at':
                '2026-11-28T09:58:12Z', 'code': 250, 'recent': True, 'reply': '250 2.0.0 Ok: queued as 4F2A1', 'source':
                'delivery', 'stage': None, 'target_ip': '203.0.113.10'}], 'ip': '192.0.2.25', 'reason': 'the latest reply
                (delivery, 2026-11-28T09:58:12Z) accepted the mail: 250 2.0.0 Ok: queued as 4F2A1', 'verdict': 'ok'}], 'domain':
                'customer.example', 'domain_id': 12, 'target_host': 'mail.customer.example', 'target_port': 25}, 'egress':
                [{'cidr': '192.0.2.25/32', 'dns_problem': None, 'family': 'ipv4', 'forward_confirmed': True, 'ip': '192.0.2.25',
                'ptr': 'backup-mx.example.net', 'ptr_names': ['backup-mx.example.net']}], 'egress_problem': None,
                'egress_source': 'configured', 'generated_at': '2026-11-28T10:05:00Z', 'recent_days': 7, 'snippets': [{'id':
                'postfix', 'instructions': 'Create the table, reference it in main.cf, then run `postfix reload`.', 'label':
                'Postfix', 'text': '# /etc/postfix/mxspool_backup_mx.cidr\\n192.0.2.25/32 OK\\n'}]}

        Attributes:
            backup_mx_hostname (str): MXSPOOL_HOSTNAME: the backup MX the customer published.
            domain (DomainWhitelist): The evidence for one relay domain.
            egress (list[EgressAddress]): The addresses mxspool sends from: allow these on the primary.
            egress_source (EgressSource): Where the egress addresses come from.
            generated_at (datetime.datetime):
            recent_days (int): Evidence younger than this many days is "recent" and decides the verdicts.
            snippets (list[WhitelistSnippet]): Paste-ready allow-list entries for common filters, each labelled.
            egress_problem (None | str | Unset): Why `egress` is empty or incomplete (e.g. the host name does not resolve);
                null when all
                is well.
    """

    backup_mx_hostname: str
    domain: DomainWhitelist
    egress: list[EgressAddress]
    egress_source: EgressSource
    generated_at: datetime.datetime
    recent_days: int
    snippets: list[WhitelistSnippet]
    egress_problem: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        backup_mx_hostname = self.backup_mx_hostname

        domain = self.domain.to_dict()

        egress = []
        for egress_item_data in self.egress:
            egress_item = egress_item_data.to_dict()
            egress.append(egress_item)

        egress_source = self.egress_source.value

        generated_at = self.generated_at.isoformat()

        recent_days = self.recent_days

        snippets = []
        for snippets_item_data in self.snippets:
            snippets_item = snippets_item_data.to_dict()
            snippets.append(snippets_item)

        egress_problem: None | str | Unset
        if isinstance(self.egress_problem, Unset):
            egress_problem = UNSET
        else:
            egress_problem = self.egress_problem

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "backup_mx_hostname": backup_mx_hostname,
                "domain": domain,
                "egress": egress,
                "egress_source": egress_source,
                "generated_at": generated_at,
                "recent_days": recent_days,
                "snippets": snippets,
            }
        )
        if egress_problem is not UNSET:
            field_dict["egress_problem"] = egress_problem

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.domain_whitelist import DomainWhitelist  # noqa: PLC0415
        from ..models.egress_address import EgressAddress  # noqa: PLC0415
        from ..models.whitelist_snippet import WhitelistSnippet  # noqa: PLC0415

        d = dict(src_dict)
        backup_mx_hostname = d.pop("backup_mx_hostname")

        domain = DomainWhitelist.from_dict(d.pop("domain"))

        egress = []
        _egress = d.pop("egress")
        for egress_item_data in _egress:
            egress_item = EgressAddress.from_dict(egress_item_data)

            egress.append(egress_item)

        egress_source = EgressSource(d.pop("egress_source"))

        generated_at = datetime.datetime.fromisoformat(d.pop("generated_at"))

        recent_days = d.pop("recent_days")

        snippets = []
        _snippets = d.pop("snippets")
        for snippets_item_data in _snippets:
            snippets_item = WhitelistSnippet.from_dict(snippets_item_data)

            snippets.append(snippets_item)

        def _parse_egress_problem(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        egress_problem = _parse_egress_problem(d.pop("egress_problem", UNSET))

        whitelist_report = cls(
            backup_mx_hostname=backup_mx_hostname,
            domain=domain,
            egress=egress,
            egress_source=egress_source,
            generated_at=generated_at,
            recent_days=recent_days,
            snippets=snippets,
            egress_problem=egress_problem,
        )

        whitelist_report.additional_properties = d
        return whitelist_report

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
