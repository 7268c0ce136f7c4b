"""The person's mail settings: the `[mail]` section, kept in the vault (record `mail/settings`).

The IMAP password is a separate vault record (`mail/imap-password`), as is the SMTP password
(`mail/smtp-password`, when it differs); neither is ever part of these settings.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["MailSettings", "is_loopback"]


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class MailSettings(BaseModel):
    """What moves where, and how to reach the mailbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = None
    tls: bool = True  # IMAP over TLS (port 993 by default)
    allow_plaintext: bool = False  # plain IMAP to a host other than 127.0.0.1 needs this, explicitly
    inbox: str = "INBOX"
    promotions_folder: str = Field(default="Promotions", min_length=1, max_length=200)
    offers_folder: str = Field(default="Offers", min_length=1, max_length=200)
    spam_folder: str | None = Field(default=None, min_length=1, max_length=200)  # None: junk folder, else Promotions
    move_categories: tuple[str, ...] = ("promotion", "spam")
    offers: Literal["inbox", "folder"] = "inbox"  # where promotions that match an open intent go
    keep_senders: tuple[str, ...] = ()  # addresses or @domains always kept
    batch_size: int = Field(default=500, ge=1, le=5000)
    unsubscribe_without_asking: bool = False  # a standing rule: one-click unsubscribes skip the approval queue
    unsubscribe_after_unread: int = Field(default=5, ge=1)  # propose after this many unread moved messages
    allow_loopback_unsubscribe: bool = False  # tests and local setups only: permit 127.0.0.1 endpoints
    # SMTP, only to send `mailto:` unsubscribe requests; unset, butler sends no mail at all
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: Literal["ssl", "starttls", "none"] = "ssl"  # "none" only to 127.0.0.1 or with allow_plaintext
    smtp_username: str | None = None  # default: `username`
    smtp_from: str | None = None  # the From address; default: the SMTP user name

    @model_validator(mode="after")
    def _plaintext_only_where_allowed(self) -> MailSettings:
        if self.host and not self.tls and not self.allow_plaintext and self.host != "127.0.0.1":
            raise ValueError(f"plain IMAP to {self.host} would send the password in the clear; "
                             "use TLS or set allow_plaintext = true")
        if (self.smtp_host and self.smtp_security == "none" and not self.allow_plaintext
                and self.smtp_host != "127.0.0.1"):
            raise ValueError(f"plain SMTP to {self.smtp_host} would send the password in the clear; "
                             "use ssl or starttls, or set allow_plaintext = true")
        if self.smtp_host and "@" not in (self.sender_address or ""):
            raise ValueError("sending mail needs a From address: set smtp_from (or an SMTP user that is an address)")
        return self

    @property
    def imap_port(self) -> int:
        return self.port or (993 if self.tls else 143)

    @property
    def imap_account(self) -> str:
        """The mailbox's account name (`imap:user@host:port`), which names its sweep state directory."""
        return f"imap:{self.username}@{self.host}:{self.imap_port}"

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def smtp_port_number(self) -> int:
        return self.smtp_port or {"ssl": 465, "starttls": 587, "none": 25}[self.smtp_security]

    @property
    def smtp_user(self) -> str | None:
        return self.smtp_username or self.username

    @property
    def sender_address(self) -> str | None:
        """The From address of mail butler sends (`mailto:` unsubscribes only)."""
        return self.smtp_from or self.smtp_user
