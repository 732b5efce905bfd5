from enum import StrEnum


class RecipientPolicy(StrEnum):
    ANY = "any"
    LISTED = "listed"
    VERIFY = "verify"

    def __str__(self) -> str:
        return str(self.value)
