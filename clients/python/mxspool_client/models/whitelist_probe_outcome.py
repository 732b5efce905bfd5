from enum import StrEnum


class WhitelistProbeOutcome(StrEnum):
    ACCEPTED = "accepted"
    ERROR = "error"
    REJECTED = "rejected"
    TEMPFAIL = "tempfail"

    def __str__(self) -> str:
        return str(self.value)
