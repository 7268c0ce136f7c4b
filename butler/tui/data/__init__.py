"""What the TUI shows, read from the vault, the mail state, the policy files and the daemon's state file.

Plain functions and dataclasses, no Textual: the screens call them from worker threads. One `VaultReader`
wraps the open vault with a lock, because several workers may read at once and a `Vault` is not thread-safe.
Secrets (the IMAP password, connector secrets, keys) are never returned, only the fact that they exist.
"""


from butler.tui.data.activity import read_seen, summarize_activity, write_seen
from butler.tui.data.daemon import DaemonJob, DaemonView, daemon_state
from butler.tui.data.policies import policy_views, rule_text
from butler.tui.data.reader import VaultReader
from butler.tui.data.values import format_money, parse_money
from butler.tui.data.views import (
    AccountView,
    ApprovalView,
    AuditSummary,
    AuditView,
    ContractView,
    Dashboard,
    ExchangeView,
    IntentView,
    MessageView,
    NegotiationView,
    PolicyFileView,
    RecordView,
    SenderView,
    SweepView,
    TermsView,
    UndoOutcome,
    VendorRecordsView,
)

__all__ = [
    "AccountView",
    "ApprovalView",
    "AuditSummary",
    "AuditView",
    "ContractView",
    "DaemonJob",
    "DaemonView",
    "Dashboard",
    "ExchangeView",
    "IntentView",
    "MessageView",
    "NegotiationView",
    "PolicyFileView",
    "RecordView",
    "SenderView",
    "SweepView",
    "TermsView",
    "UndoOutcome",
    "VaultReader",
    "VendorRecordsView",
    "daemon_state",
    "format_money",
    "parse_money",
    "policy_views",
    "read_seen",
    "rule_text",
    "summarize_activity",
    "write_seen",
]
