from enum import StrEnum


class WebhookEventType(StrEnum):
    DOMAIN_DNS_ERROR = "domain.dns_error"
    MESSAGE_BOUNCED = "message.bounced"
    MESSAGE_EXPIRED = "message.expired"
    QUEUE_THRESHOLD = "queue.threshold"
    TARGET_DOWN = "target.down"
    TARGET_UP = "target.up"

    def __str__(self) -> str:
        return str(self.value)
