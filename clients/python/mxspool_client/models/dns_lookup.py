from enum import StrEnum


class DnsLookup(StrEnum):
    FAILED = "failed"
    NODATA = "nodata"
    NXDOMAIN = "nxdomain"
    OK = "ok"
    REFUSED = "refused"
    SERVFAIL = "servfail"
    TIMEOUT = "timeout"

    def __str__(self) -> str:
        return str(self.value)
