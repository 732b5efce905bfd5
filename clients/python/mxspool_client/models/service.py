from enum import StrEnum


class Service(StrEnum):
    SMTP = "smtp"

    def __str__(self) -> str:
        return str(self.value)
