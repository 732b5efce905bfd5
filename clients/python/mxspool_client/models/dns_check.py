from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.dns_lookup import DnsLookup
from ..models.dns_status import DnsStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dns_check_item import DnsCheckItem
    from ..models.dns_host import DnsHost
    from ..models.dns_mx_host import DnsMxHost


T = TypeVar("T", bound="DnsCheck")


@_attrs_define
class DnsCheck:
    """Everything the check found in DNS, and the verdicts.

    Example:
        {'backup_host': 'backup-mx.example.net', 'checked_at': '2026-11-28T10:05:00Z', 'checks': [{'message':
            'customer.example has 2 MX record(s).', 'name': 'mx_records_present', 'status': 'ok'}, {'message': 'backup-
            mx.example.net is an MX of customer.example (preference 90).', 'name': 'backup_listed', 'status': 'ok'},
            {'message': 'The backup MX has the highest number (90): senders use it only when every other MX fails.', 'name':
            'backup_least_priority', 'status': 'ok'}, {'message': "The target host mail.customer.example is an MX with
            preference 10, lower than the backup's 90.", 'name': 'primary_listed', 'status': 'ok'}, {'message': 'The target
            host mail.customer.example resolves to 198.51.100.20.', 'name': 'target_resolves', 'status': 'ok'}, {'message':
            'The target host is not this backup MX (203.0.113.5).', 'name': 'no_loop', 'status': 'ok'}, {'message': 'Every
            MX host has an address.', 'name': 'mx_hosts_resolve', 'status': 'ok'}, {'message': 'No MX host is an alias
            (CNAME).', 'name': 'mx_hosts_not_cname', 'status': 'ok'}, {'message': 'The MX records have a TTL of 1800 s (1800
            s recommended).', 'name': 'mx_ttl', 'status': 'ok'}], 'domain': 'customer.example', 'lookup': 'ok', 'mx':
            [{'addresses': ['198.51.100.20'], 'cname': None, 'exchange': 'mail.customer.example', 'is_backup': False,
            'lookup': 'ok', 'preference': 10}, {'addresses': ['203.0.113.5'], 'cname': None, 'exchange': 'backup-
            mx.example.net', 'is_backup': True, 'lookup': 'ok', 'preference': 90}], 'null_mx': False, 'own_addresses':
            ['203.0.113.5'], 'status': 'ok', 'target': {'addresses': ['198.51.100.20'], 'host': 'mail.customer.example',
            'lookup': 'ok'}, 'ttl': 1800}

    Attributes:
        backup_host (str): The MX host name the domain should publish (this service).
        checked_at (datetime.datetime):
        checks (list[DnsCheckItem]):
        domain (str):
        lookup (DnsLookup): What happened to one DNS query.
        mx (list[DnsMxHost]): The MX records, by preference.
        null_mx (bool): The domain publishes a null MX (RFC 7505, `0 .`): it declares it accepts no mail.
        own_addresses (list[str]): This service's addresses (MXSPOOL_EGRESS_IPS and those of its host name): a target
            resolving to one of them is a loop.
        status (DnsStatus): Overall result of a live DNS check, the worst of its named checks.
        target (DnsHost): A host name (or IP address) and what it resolves to.
        ttl (int | None | Unset): Smallest TTL of the MX record set, in seconds; null without MX records.
    """

    backup_host: str
    checked_at: datetime.datetime
    checks: list[DnsCheckItem]
    domain: str
    lookup: DnsLookup
    mx: list[DnsMxHost]
    null_mx: bool
    own_addresses: list[str]
    status: DnsStatus
    target: DnsHost
    ttl: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        backup_host = self.backup_host

        checked_at = self.checked_at.isoformat()

        checks = []
        for checks_item_data in self.checks:
            checks_item = checks_item_data.to_dict()
            checks.append(checks_item)

        domain = self.domain

        lookup = self.lookup.value

        mx = []
        for mx_item_data in self.mx:
            mx_item = mx_item_data.to_dict()
            mx.append(mx_item)

        null_mx = self.null_mx

        own_addresses = self.own_addresses

        status = self.status.value

        target = self.target.to_dict()

        ttl: int | None | Unset
        if isinstance(self.ttl, Unset):
            ttl = UNSET
        else:
            ttl = self.ttl

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "backup_host": backup_host,
                "checked_at": checked_at,
                "checks": checks,
                "domain": domain,
                "lookup": lookup,
                "mx": mx,
                "null_mx": null_mx,
                "own_addresses": own_addresses,
                "status": status,
                "target": target,
            }
        )
        if ttl is not UNSET:
            field_dict["ttl"] = ttl

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dns_check_item import DnsCheckItem  # noqa: PLC0415
        from ..models.dns_host import DnsHost  # noqa: PLC0415
        from ..models.dns_mx_host import DnsMxHost  # noqa: PLC0415

        d = dict(src_dict)
        backup_host = d.pop("backup_host")

        checked_at = datetime.datetime.fromisoformat(d.pop("checked_at"))

        checks = []
        _checks = d.pop("checks")
        for checks_item_data in _checks:
            checks_item = DnsCheckItem.from_dict(checks_item_data)

            checks.append(checks_item)

        domain = d.pop("domain")

        lookup = DnsLookup(d.pop("lookup"))

        mx = []
        _mx = d.pop("mx")
        for mx_item_data in _mx:
            mx_item = DnsMxHost.from_dict(mx_item_data)

            mx.append(mx_item)

        null_mx = d.pop("null_mx")

        own_addresses = cast(list[str], d.pop("own_addresses"))

        status = DnsStatus(d.pop("status"))

        target = DnsHost.from_dict(d.pop("target"))

        def _parse_ttl(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        ttl = _parse_ttl(d.pop("ttl", UNSET))

        dns_check = cls(
            backup_host=backup_host,
            checked_at=checked_at,
            checks=checks,
            domain=domain,
            lookup=lookup,
            mx=mx,
            null_mx=null_mx,
            own_addresses=own_addresses,
            status=status,
            target=target,
            ttl=ttl,
        )

        dns_check.additional_properties = d
        return dns_check

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
