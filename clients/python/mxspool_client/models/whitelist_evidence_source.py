from enum import StrEnum


class WhitelistEvidenceSource(StrEnum):
    DELIVERY = "delivery"
    VERIFY = "verify"

    def __str__(self) -> str:
        return str(self.value)
