from enum import StrEnum


class QueueActionKind(StrEnum):
    DELETE = "delete"
    HOLD = "hold"
    RELEASE = "release"
    RETRY = "retry"

    def __str__(self) -> str:
        return str(self.value)
