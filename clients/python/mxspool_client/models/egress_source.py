from enum import StrEnum


class EgressSource(StrEnum):
    CONFIGURED = "configured"
    HOSTNAME = "hostname"

    def __str__(self) -> str:
        return str(self.value)
