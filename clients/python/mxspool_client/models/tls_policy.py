from enum import StrEnum


class TlsPolicy(StrEnum):
    NONE = "none"
    OPPORTUNISTIC = "opportunistic"
    REQUIRED = "required"
    VERIFY = "verify"

    def __str__(self) -> str:
        return str(self.value)
