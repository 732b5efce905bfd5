from enum import StrEnum


class DnsStatus(StrEnum):
    ERROR = "error"
    OK = "ok"
    WARNING = "warning"

    def __str__(self) -> str:
        return str(self.value)
