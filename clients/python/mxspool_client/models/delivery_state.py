from enum import StrEnum


class DeliveryState(StrEnum):
    BOUNCED = "bounced"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    DELIVERING = "delivering"
    EXPIRED = "expired"
    HELD = "held"
    QUEUED = "queued"

    def __str__(self) -> str:
        return str(self.value)
