"""Contains all the data models used in inputs/outputs"""

from .account_page import AccountPage
from .account_view import AccountView
from .add_result import AddResult
from .api_key_page import ApiKeyPage
from .api_key_view import ApiKeyView
from .attempt_outcome import AttemptOutcome
from .create_account import CreateAccount
from .create_api_key import CreateApiKey
from .create_domain import CreateDomain
from .create_webhook import CreateWebhook
from .created_api_key import CreatedApiKey
from .delivery_attempt_view import DeliveryAttemptView
from .delivery_state import DeliveryState
from .dns_check import DnsCheck
from .dns_check_item import DnsCheckItem
from .dns_check_name import DnsCheckName
from .dns_check_status import DnsCheckStatus
from .dns_check_summary import DnsCheckSummary
from .dns_host import DnsHost
from .dns_lookup import DnsLookup
from .dns_mx_host import DnsMxHost
from .dns_record import DnsRecord
from .dns_report import DnsReport
from .dns_status import DnsStatus
from .domain_flush_result import DomainFlushResult
from .domain_page import DomainPage
from .domain_queue_stats import DomainQueueStats
from .domain_type import DomainType
from .domain_view import DomainView
from .domain_whitelist import DomainWhitelist
from .domain_whitelist_report_format import DomainWhitelistReportFormat
from .egress_address import EgressAddress
from .egress_source import EgressSource
from .field_error import FieldError
from .health import Health
from .login_request import LoginRequest
from .message_headers import MessageHeaders
from .outage import Outage
from .outage_report import OutageReport
from .problem import Problem
from .queue_action_kind import QueueActionKind
from .queue_action_result import QueueActionResult
from .queue_bulk_action import QueueBulkAction
from .queue_filter_spec import QueueFilterSpec
from .queue_item import QueueItem
from .queue_message import QueueMessage
from .queue_page import QueuePage
from .queue_recipient import QueueRecipient
from .recipient_list import RecipientList
from .recipient_page import RecipientPage
from .recipient_policy import RecipientPolicy
from .recipient_view import RecipientView
from .refresh_request import RefreshRequest
from .replace_result import ReplaceResult
from .role import Role
from .scope import Scope
from .service import Service
from .target_event import TargetEvent
from .target_event_page import TargetEventPage
from .target_page import TargetPage
from .target_state import TargetState
from .target_view import TargetView
from .tls_policy import TlsPolicy
from .token_response import TokenResponse
from .update_account import UpdateAccount
from .update_domain import UpdateDomain
from .update_webhook import UpdateWebhook
from .verify_fallback import VerifyFallback
from .webhook_delivery_page import WebhookDeliveryPage
from .webhook_delivery_status import WebhookDeliveryStatus
from .webhook_delivery_view import WebhookDeliveryView
from .webhook_event_type import WebhookEventType
from .webhook_page import WebhookPage
from .webhook_view import WebhookView
from .whitelist_address import WhitelistAddress
from .whitelist_evidence import WhitelistEvidence
from .whitelist_evidence_source import WhitelistEvidenceSource
from .whitelist_overview import WhitelistOverview
from .whitelist_overview_format import WhitelistOverviewFormat
from .whitelist_probe_outcome import WhitelistProbeOutcome
from .whitelist_probe_result import WhitelistProbeResult
from .whitelist_probe_stage import WhitelistProbeStage
from .whitelist_report import WhitelistReport
from .whitelist_snippet import WhitelistSnippet
from .whitelist_transcript_line import WhitelistTranscriptLine
from .whitelist_verdict import WhitelistVerdict
from .whitelist_verify_report import WhitelistVerifyReport

__all__ = (
    "AccountPage",
    "AccountView",
    "AddResult",
    "ApiKeyPage",
    "ApiKeyView",
    "AttemptOutcome",
    "CreateAccount",
    "CreateApiKey",
    "CreatedApiKey",
    "CreateDomain",
    "CreateWebhook",
    "DeliveryAttemptView",
    "DeliveryState",
    "DnsCheck",
    "DnsCheckItem",
    "DnsCheckName",
    "DnsCheckStatus",
    "DnsCheckSummary",
    "DnsHost",
    "DnsLookup",
    "DnsMxHost",
    "DnsRecord",
    "DnsReport",
    "DnsStatus",
    "DomainFlushResult",
    "DomainPage",
    "DomainQueueStats",
    "DomainType",
    "DomainView",
    "DomainWhitelist",
    "DomainWhitelistReportFormat",
    "EgressAddress",
    "EgressSource",
    "FieldError",
    "Health",
    "LoginRequest",
    "MessageHeaders",
    "Outage",
    "OutageReport",
    "Problem",
    "QueueActionKind",
    "QueueActionResult",
    "QueueBulkAction",
    "QueueFilterSpec",
    "QueueItem",
    "QueueMessage",
    "QueuePage",
    "QueueRecipient",
    "RecipientList",
    "RecipientPage",
    "RecipientPolicy",
    "RecipientView",
    "RefreshRequest",
    "ReplaceResult",
    "Role",
    "Scope",
    "Service",
    "TargetEvent",
    "TargetEventPage",
    "TargetPage",
    "TargetState",
    "TargetView",
    "TlsPolicy",
    "TokenResponse",
    "UpdateAccount",
    "UpdateDomain",
    "UpdateWebhook",
    "VerifyFallback",
    "WebhookDeliveryPage",
    "WebhookDeliveryStatus",
    "WebhookDeliveryView",
    "WebhookEventType",
    "WebhookPage",
    "WebhookView",
    "WhitelistAddress",
    "WhitelistEvidence",
    "WhitelistEvidenceSource",
    "WhitelistOverview",
    "WhitelistOverviewFormat",
    "WhitelistProbeOutcome",
    "WhitelistProbeResult",
    "WhitelistProbeStage",
    "WhitelistReport",
    "WhitelistSnippet",
    "WhitelistTranscriptLine",
    "WhitelistVerdict",
    "WhitelistVerifyReport",
)
