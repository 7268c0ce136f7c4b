"""`config.toml` in BUTLER_HOME, validated by pydantic. Errors name the file, the line and the field."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from butler import paths
from butler.errors import ConfigError

__all__ = ["Config", "DaemonConfig", "MailConfig", "TermsConfig", "VaultConfig", "VendorsConfig", "load_config"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VaultConfig(_Section):
    keyring: Literal["auto", "secretservice", "macos", "windows", "none"] = "auto"
    lock_timeout_seconds: float = Field(default=10.0, gt=0, le=300)


class DaemonConfig(_Section):
    mail_sweep_minutes: int = Field(default=15, ge=1)
    renewal_sweep_hours: int = Field(default=24, ge=1)
    intent_watch_minutes: int = Field(default=60, ge=1)
    audit_verify_hours: int = Field(default=24, ge=1)
    backup_days: int = Field(default=7, ge=1)


class VendorsConfig(_Section):
    # the most one whole operation with a vendor may take: validating a connector, a checkout
    deadline_seconds: float = Field(default=60.0, gt=0, le=3600, allow_inf_nan=False)


class TermsConfig(_Section):
    # tests and local setups only: reach a MyTerms vendor at a loopback address written in its URL (127.0.0.1, ::1)
    allow_loopback: bool = False


class MailConfig(_Section):
    # engagement is read from the mailbox without changing it: \Seen, \Flagged, and replies in the Sent folder
    engagement: Literal["keep-read", "ignore"] = Field(
        default="keep-read", description="bulk senders whose mail you read stay in the inbox (keep-read), or "
                                         "engagement is not looked at (ignore)")
    read_share: float = Field(default=0.3, gt=0, le=1, description="share of a bulk sender's mail you read or "
                                                                    "flag for it to stay")
    read_at_least: int = Field(default=2, ge=1, description="messages you read or flagged before a sender counts "
                                                            "as read")
    unopened_after: int = Field(default=5, ge=0, description="a newsletter sender you opened none of this many "
                                                             "messages from leaves the inbox (0: never)")
    engagement_window: int = Field(default=2000, ge=0, le=100_000, description="newest messages per folder read "
                                                                               "for engagement")


class Config(_Section):
    vault: VaultConfig = VaultConfig()
    daemon: DaemonConfig = DaemonConfig()
    vendors: VendorsConfig = VendorsConfig()
    terms: TermsConfig = TermsConfig()
    mail: MailConfig = MailConfig()


def load_config(path: Path | None = None) -> Config:
    """Read and validate the config file; a missing file means every default."""
    path = path or paths.config_path()
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config: {exc}", location=str(path)) from None
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else None)
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"not valid TOML: {exc.args[0] if exc.args else exc}", location=where) from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        from butler.sourcemap import SourceMap  # only when there is an error to place

        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        written_in = SourceMap(source)
        # None: no part of it is written in the file; a section written as an array of tables ([[vault]]) is
        # known by its first element
        written = written_in.lookup(first["loc"]) or written_in.lookup((*first["loc"][:1], 0))
        where = f"{path}:{written.line}" if written else str(path)
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{field}: {first['msg']}{more}", "Fix the field, or delete it to use the default.",
                          location=where) from None
