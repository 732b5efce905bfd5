from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CUSTOMER = "customer"
    DOMAIN_ADMIN = "domain_admin"

    def __str__(self) -> str:
        return str(self.value)
