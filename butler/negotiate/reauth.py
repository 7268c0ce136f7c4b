"""The desk's kind "reauth": a vendor refused a connector's credentials, so the person is asked to re-enter them.

Queued (once per connector while one waits) wherever a connector raises AuthError: collecting offers, renewals,
checkout. Approving means "I entered them again (`butler connectors enable ID`)": butler checks the connector
against its vendor and the item is done, or waits again if the vendor still refuses. Rejecting leaves the
connector as it is.
"""

from __future__ import annotations

from typing import Literal

from butler.approvals import Item, Kind, Outcome, State, TryLater, item_id, submit
from butler.config import load_config
from butler.sdk import AuthError
from butler.vault import Vault

__all__ = ["KIND", "REAUTH", "ReauthItem", "ask_to_reauthenticate"]

REAUTH = "reauth"


class ReauthItem(Item):
    kind: Literal["reauth"] = "reauth"
    connector: str
    refused: str = ""

    def summary(self) -> str:
        return (f"{self.connector} refused its credentials: enter them again with `butler connectors enable "
                f"{self.connector}`, then approve this to check them")


def ask_to_reauthenticate(vault: Vault, connector_id: str, error: AuthError) -> str:
    """Queue a re-authentication item for `connector_id` (unless one waits already); a sentence for reports."""
    # a refusal after an earlier one was settled asks again; one that still waits is left as it is
    submit(vault, ReauthItem(id=item_id(REAUTH, connector_id), connector=connector_id, refused=error.message,
                             reasons=[error.message]), replace_settled=True)
    return f"{connector_id} refused its credentials ({error.message}); re-enter them: see `butler approvals list`"


class ReauthHandler:
    async def execute(self, vault: Vault, item: ReauthItem) -> Outcome:
        from butler.negotiate.vendors import check

        try:
            await check(vault, item.connector, deadline_seconds=load_config().vendors.deadline_seconds)
        except AuthError as exc:
            raise TryLater(f"{item.connector} still refuses its credentials ({exc.message})") from None
        return Outcome(State.DONE, f"{item.connector} accepts its credentials again")

    def reject(self, vault: Vault, item: ReauthItem) -> str:
        return f"{item.connector} left as it is; it stays out of negotiations while its vendor refuses it"

    def reconcile(self, vault: Vault, item: ReauthItem) -> Outcome:
        return Outcome(State.PENDING, "interrupted while checking; approve it again")


KIND = Kind(REAUTH, ReauthItem, ReauthHandler())
