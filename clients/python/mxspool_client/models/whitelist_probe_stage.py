from enum import StrEnum


class WhitelistProbeStage(StrEnum):
    BIND = "bind"
    CONNECT = "connect"
    EHLO = "ehlo"
    GREETING = "greeting"
    MAIL = "mail"
    RCPT = "rcpt"
    RESOLVE = "resolve"

    def __str__(self) -> str:
        return str(self.value)
