from enum import StrEnum


class WhitelistVerdict(StrEnum):
    DEFERRED = "deferred"
    GREYLISTED = "greylisted"
    OK = "ok"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return str(self.value)
