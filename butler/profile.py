"""The vault record `profile/me`: who the butler works for, and the only code that reads or writes it."""

from __future__ import annotations

from butler.models import Profile
from butler.records import Collection
from butler.vault import Vault

__all__ = ["COLLECTION", "RECORDS", "load", "save"]

COLLECTION = "profile"
RECORDS = Collection(COLLECTION, __name__, "who the butler works for (name, email, address, currency)",
                     model=Profile, id_scheme="me")
_ID = "me"


def load(vault: Vault) -> Profile | None:
    """The person's profile, or None when none was set (or it no longer reads as one)."""
    record = vault.get(COLLECTION, _ID)
    if record is None:
        return None
    try:
        return Profile.model_validate(record.data)
    except ValueError:
        return None


def save(vault: Vault, profile: Profile) -> None:
    vault.put(COLLECTION, _ID, profile.model_dump(mode="json"))
