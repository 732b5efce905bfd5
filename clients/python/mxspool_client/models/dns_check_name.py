from enum import StrEnum


class DnsCheckName(StrEnum):
    BACKUP_LEAST_PRIORITY = "backup_least_priority"
    BACKUP_LISTED = "backup_listed"
    MX_HOSTS_NOT_CNAME = "mx_hosts_not_cname"
    MX_HOSTS_RESOLVE = "mx_hosts_resolve"
    MX_RECORDS_PRESENT = "mx_records_present"
    MX_TTL = "mx_ttl"
    NO_LOOP = "no_loop"
    PRIMARY_LISTED = "primary_listed"
    TARGET_RESOLVES = "target_resolves"

    def __str__(self) -> str:
        return str(self.value)
