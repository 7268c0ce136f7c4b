"""The places of the TUI, one screen per module."""

from butler.tui.screens.approvals import ApprovalsScreen
from butler.tui.screens.base import ButlerScreen
from butler.tui.screens.contracts import ContractsScreen
from butler.tui.screens.deals import DealsScreen
from butler.tui.screens.home import HomeScreen
from butler.tui.screens.mail import MailScreen
from butler.tui.screens.rights import RightsScreen
from butler.tui.screens.terms import TermsScreen
from butler.tui.screens.unlock import PassphraseScreen
from butler.tui.screens.vault import VaultScreen

__all__ = [
    "ApprovalsScreen",
    "ButlerScreen",
    "ContractsScreen",
    "DealsScreen",
    "HomeScreen",
    "MailScreen",
    "PassphraseScreen",
    "RightsScreen",
    "TermsScreen",
    "VaultScreen",
]
