from enum import StrEnum


class AttemptOutcome(StrEnum):
    BOUNCED = "bounced"
    DEFERRED = "deferred"
    DELIVERED = "delivered"

    def __str__(self) -> str:
        return str(self.value)
