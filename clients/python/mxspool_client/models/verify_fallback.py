from enum import StrEnum


class VerifyFallback(StrEnum):
    ACCEPT = "accept"
    TEMPFAIL = "tempfail"

    def __str__(self) -> str:
        return str(self.value)
