from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.dns_check import DnsCheck
    from ..models.dns_record import DnsRecord


T = TypeVar("T", bound="DnsReport")


@_attrs_define
class DnsReport:
    """What to publish in DNS for one relay domain (step 2 of the customer's three steps), and
    the live check of what DNS says now. `check.status` is the verdict: `ok` when the MX
    record is published right, otherwise each `check.checks` entry that is not `ok` says what
    is wrong and what to change.

        Example:
            {'check': {'backup_host': 'backup-mx.example.net', 'checked_at': '2026-11-28T10:05:00Z', 'checks': [{'message':
                'customer.example has 1 MX record(s).', 'name': 'mx_records_present', 'status': 'ok'}, {'message': 'backup-
                mx.example.net is not among the MX records of customer.example, so senders never use the backup. Add:
                customer.example. 1800 IN MX 90 backup-mx.example.net.', 'name': 'backup_listed', 'status': 'error'},
                {'message': 'Not checked: the backup MX is not listed.', 'name': 'backup_least_priority', 'status': 'skipped'},
                {'message': 'The target host mail.customer.example is an MX with preference 10.', 'name': 'primary_listed',
                'status': 'ok'}, {'message': 'The target host mail.customer.example resolves to 198.51.100.20.', 'name':
                'target_resolves', 'status': 'ok'}, {'message': 'The target host is not this backup MX (203.0.113.5).', 'name':
                'no_loop', 'status': 'ok'}, {'message': 'Every MX host has an address.', 'name': 'mx_hosts_resolve', 'status':
                'ok'}, {'message': 'No MX host is an alias (CNAME).', 'name': 'mx_hosts_not_cname', 'status': 'ok'}, {'message':
                'The MX records have a TTL of 3600 s (1800 s recommended).', 'name': 'mx_ttl', 'status': 'ok'}], 'domain':
                'customer.example', 'lookup': 'ok', 'mx': [{'addresses': ['198.51.100.20'], 'cname': None, 'exchange':
                'mail.customer.example', 'is_backup': False, 'lookup': 'ok', 'preference': 10}], 'null_mx': False,
                'own_addresses': ['203.0.113.5'], 'status': 'error', 'target': {'addresses': ['198.51.100.20'], 'host':
                'mail.customer.example', 'lookup': 'ok'}, 'ttl': 3600}, 'domain': 'customer.example', 'instructions': 'Add an MX
                record for customer.example: host "@" (the domain itself), type MX, priority 90, mail server backup-
                mx.example.net, TTL 1800. …', 'records': [{'host': '@', 'priority': 90, 'ttl': 1800, 'type': 'MX', 'value':
                'backup-mx.example.net'}], 'zone_file_line': 'customer.example. 1800 IN MX 90 backup-mx.example.net.'}

        Attributes:
            check (DnsCheck): Everything the check found in DNS, and the verdicts. Example: {'backup_host': 'backup-
                mx.example.net', 'checked_at': '2026-11-28T10:05:00Z', 'checks': [{'message': 'customer.example has 2 MX
                record(s).', 'name': 'mx_records_present', 'status': 'ok'}, {'message': 'backup-mx.example.net is an MX of
                customer.example (preference 90).', 'name': 'backup_listed', 'status': 'ok'}, {'message': 'The backup MX has the
                highest number (90): senders use it only when every other MX fails.', 'name': 'backup_least_priority', 'status':
                'ok'}, {'message': "The target host mail.customer.example is an MX with preference 10, lower than the backup's
                90.", 'name': 'primary_listed', 'status': 'ok'}, {'message': 'The target host mail.customer.example resolves to
                198.51.100.20.', 'name': 'target_resolves', 'status': 'ok'}, {'message': 'The target host is not this backup MX
                (203.0.113.5).', 'name': 'no_loop', 'status': 'ok'}, {'message': 'Every MX host has an address.', 'name':
                'mx_hosts_resolve', 'status': 'ok'}, {'message': 'No MX host is an alias (CNAME).', 'name':
                'mx_hosts_not_cname', 'status': 'ok'}, {'message': 'The MX records have a TTL of 1800 s (1800 s recommended).',
                'name': 'mx_ttl', 'status': 'ok'}], 'domain': 'customer.example', 'lookup': 'ok', 'mx': [{'addresses':
                ['198.51.100.20'], 'cname': None, 'exchange': 'mail.customer.example', 'is_backup': False, 'lookup': 'ok',
                'preference': 10}, {'addresses': ['203.0.113.5'], 'cname': None, 'exchange': 'backup-mx.example.net',
                'is_backup': True, 'lookup': 'ok', 'preference': 90}], 'null_mx': False, 'own_addresses': ['203.0.113.5'],
                'status': 'ok', 'target': {'addresses': ['198.51.100.20'], 'host': 'mail.customer.example', 'lookup': 'ok'},
                'ttl': 1800}.
            domain (str):
            instructions (str): What to do, in words.
            records (list[DnsRecord]):
            zone_file_line (str): The same record as a line for a BIND-style zone file.
    """

    check: DnsCheck
    domain: str
    instructions: str
    records: list[DnsRecord]
    zone_file_line: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        check = self.check.to_dict()

        domain = self.domain

        instructions = self.instructions

        records = []
        for records_item_data in self.records:
            records_item = records_item_data.to_dict()
            records.append(records_item)

        zone_file_line = self.zone_file_line

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "check": check,
                "domain": domain,
                "instructions": instructions,
                "records": records,
                "zone_file_line": zone_file_line,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dns_check import DnsCheck  # noqa: PLC0415
        from ..models.dns_record import DnsRecord  # noqa: PLC0415

        d = dict(src_dict)
        check = DnsCheck.from_dict(d.pop("check"))

        domain = d.pop("domain")

        instructions = d.pop("instructions")

        records = []
        _records = d.pop("records")
        for records_item_data in _records:
            records_item = DnsRecord.from_dict(records_item_data)

            records.append(records_item)

        zone_file_line = d.pop("zone_file_line")

        dns_report = cls(
            check=check,
            domain=domain,
            instructions=instructions,
            records=records,
            zone_file_line=zone_file_line,
        )

        dns_report.additional_properties = d
        return dns_report

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
