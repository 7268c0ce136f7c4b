"""The person's mailbox as the vault describes it: settings, password, open intents, policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from butler.mail.errors import MailConfigError
from butler.mail.settings import MailSettings
from butler.mail.smtp import SmtpSender
from butler.models import Intent, IntentStatus
from butler.negotiate import intents
from butler.policy import PolicySet, load_home_policies
from butler.records import Collection
from butler.vault import Vault

__all__ = [
    "MAIL_COLLECTION",
    "PASSWORD_ID",
    "RECORDS",
    "SETTINGS_ID",
    "SMTP_PASSWORD_ID",
    "load_intents",
    "load_mail_policies",
    "load_password",
    "load_settings",
    "load_smtp_password",
    "save_password",
    "save_settings",
    "save_smtp_password",
    "smtp_sender",
]

MAIL_COLLECTION = "mail"
SETTINGS_ID = "settings"
PASSWORD_ID = "imap-password"
SMTP_PASSWORD_ID = "smtp-password"
RECORDS = Collection(MAIL_COLLECTION, __name__, "the mail account: settings and passwords",
                     id_scheme="settings | imap-password | smtp-password",
                     secret_ids=frozenset({PASSWORD_ID, SMTP_PASSWORD_ID}))


def load_settings(vault: Vault | None) -> MailSettings:
    record = vault.get(MAIL_COLLECTION, SETTINGS_ID) if vault is not None else None
    if record is None:
        return MailSettings()
    try:
        return MailSettings.model_validate(record.data)
    except ValidationError as exc:
        raise MailConfigError(f"the stored [mail] settings are invalid: {exc.errors()[0]['msg']}") from None


def save_settings(vault: Vault, settings: MailSettings) -> None:
    vault.put(MAIL_COLLECTION, SETTINGS_ID, settings.model_dump(mode="json"))


def save_password(vault: Vault, password: str) -> None:
    vault.put(MAIL_COLLECTION, PASSWORD_ID, {"value": password})


def load_password(vault: Vault) -> str:
    record = vault.get(MAIL_COLLECTION, PASSWORD_ID)
    if record is None or not isinstance(record.data.get("value"), str):
        raise MailConfigError("no IMAP password is stored in the vault")
    return str(record.data["value"])


def save_smtp_password(vault: Vault, password: str) -> None:
    vault.put(MAIL_COLLECTION, SMTP_PASSWORD_ID, {"value": password})


def load_smtp_password(vault: Vault) -> str | None:
    """The SMTP password: its own record, else the IMAP password (most providers use one), else None."""
    for record_id in (SMTP_PASSWORD_ID, PASSWORD_ID):
        record = vault.get(MAIL_COLLECTION, record_id)
        if record is not None and isinstance(record.data.get("value"), str):
            return str(record.data["value"])
    return None


def smtp_sender(vault: Vault) -> SmtpSender | None:
    """What sends `mailto:` unsubscribes for this vault's mailbox, or None when no SMTP server is set up."""
    settings = load_settings(vault)
    if not settings.smtp_configured:
        return None
    return SmtpSender(settings, load_smtp_password(vault))


def load_intents(vault: Vault | None) -> list[Intent]:
    """Open intents from the vault's `intents` collection; malformed records are skipped."""
    out: list[Intent] = []
    if vault is None:
        return out
    for record in intents.records(vault):
        data: dict[str, Any] = dict(record.data)
        data.setdefault("id", record.id)
        try:
            intent = Intent.model_validate(data)
        except ValidationError:
            continue
        if intent.status is IntentStatus.OPEN:
            out.append(intent)
    return out


def load_mail_policies(home: Path | None = None) -> PolicySet | None:
    policies = load_home_policies(home)
    return policies if policies.files else None
