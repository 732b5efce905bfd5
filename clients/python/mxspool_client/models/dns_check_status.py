from enum import StrEnum


class DnsCheckStatus(StrEnum):
    ERROR = "error"
    OK = "ok"
    SKIPPED = "skipped"
    WARNING = "warning"

    def __str__(self) -> str:
        return str(self.value)
