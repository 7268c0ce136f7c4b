"""`butler doctor`'s checks that reach out: the mail server and each enabled connector's vendor, each with a
deadline (skipped with --offline)."""

from __future__ import annotations

import asyncio

from butler.commands.doctor_checks import Checkup
from butler.errors import ButlerError

__all__ = ["MAIL_DEADLINE", "VENDOR_DEADLINE", "check_connectors", "check_mail"]

MAIL_DEADLINE = 8.0  # seconds for the mail server to answer and take the login
VENDOR_DEADLINE = 15.0  # seconds for one connector's validate(), at most (less when [vendors] says less)


def check_mail(ctx: Checkup) -> None:
    if ctx.vault is None:
        return  # said already: no key at hand
    from butler.mail.account import load_password, load_settings
    from butler.mail.probe import probe

    try:
        settings = load_settings(ctx.vault)
    except ButlerError as exc:
        ctx.add("mail", "error", exc.message, exc.hint or "Run `butler mail setup` again.")
        return
    if not settings.host or not settings.username:
        ctx.add("mail", "ok", "no mail account set up (optional: `butler mail setup`)")
        return
    if ctx.offline:
        ctx.add("mail", "ok", f"{settings.imap_account}: not contacted (--offline)")
        return
    try:
        found = probe(settings, load_password(ctx.vault), timeout=MAIL_DEADLINE)
    except ButlerError as exc:
        ctx.add("mail", "error", f"mail server for {settings.username}: {exc.message}",
                exc.hint or "Check the account with `butler mail setup` (it tests the connection).")
        return
    if not found.can_sweep:
        ctx.add("mail", "error", f"{found.summary()}: neither MOVE nor UIDPLUS, so butler will not sweep it",
                "Use another server or account; butler never risks an EXPUNGE that could remove other mail.")
        return
    ctx.add("mail", "ok", f"{found.summary()}; " + "; ".join(found.notes()))


def check_connectors(ctx: Checkup) -> None:
    if ctx.vault is None:
        return
    from butler import registry
    from butler.negotiate import vendors

    enabled = sorted(registry.enabled_ids(ctx.vault))
    if not enabled:
        ctx.add("connectors", "ok", "no vendor connectors enabled (`butler connectors list` shows what is "
                                    "installed)")
        return
    deadline = min(VENDOR_DEADLINE, ctx.config.vendors.deadline_seconds)
    for connector_id in enabled:
        check = f"connector:{connector_id}"
        if ctx.offline:
            ctx.add(check, "ok", f"{connector_id} is enabled; not contacted (--offline)")
            continue
        try:
            lines = asyncio.run(vendors.check(ctx.vault, connector_id, deadline_seconds=deadline))
        except ButlerError as exc:
            ctx.add(check, "error", f"{connector_id} does not validate: {exc.message}",
                    exc.hint or f"`butler connectors check {connector_id}` after fixing it, or "
                                f"`butler connectors enable {connector_id} --new-secrets`.")
            continue
        except Exception as exc:  # a connector's own bug is its finding, not doctor's traceback
            ctx.add(check, "error", f"{connector_id} broke while validating: {type(exc).__name__}: {exc}",
                    f"Update or disable it: `butler connectors disable {connector_id}`.")
            continue
        ctx.add(check, "ok", f"{connector_id} validates" + (f": {'; '.join(lines)}" if lines else ""))
