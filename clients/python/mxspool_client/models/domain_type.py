from enum import StrEnum


class DomainType(StrEnum):
    RELAY = "relay"

    def __str__(self) -> str:
        return str(self.value)
