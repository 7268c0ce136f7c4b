"""A connection test of the IMAP account: reach the server, log in, read its capabilities, log out.

`butler mail setup` runs it before storing an account, `butler doctor` with a short deadline. It reads no mail.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import IMAPClientError, LoginError  # type: ignore[import-untyped]

from butler.log import register_secret
from butler.mail.errors import MailAuthError, MailConfigError, MailSourceError
from butler.mail.settings import MailSettings, is_loopback

__all__ = ["ServerProbe", "probe"]

# what each capability butler uses means for the sweep, as (capability, when present, when missing)
_MEANING = (
    ("MOVE", "moves mail in one step (MOVE)", None),
    ("UIDPLUS", "can remove exactly the copied messages (UIDPLUS)", None),
    ("CONDSTORE", "flags unchanged since the last sweep are not read again (CONDSTORE)",
     "reads every message's flags on each sweep (no CONDSTORE)"),
    ("SPECIAL-USE", "names its Junk folder (SPECIAL-USE)", "names no Junk folder: spam goes with promotions"),
    ("NAMESPACE", "tells where folders are filed (NAMESPACE)", None),
)


@dataclass(frozen=True)
class ServerProbe:
    host: str
    port: int
    tls: bool
    capabilities: frozenset[str]
    seconds: float

    @property
    def can_sweep(self) -> bool:
        """The sweep moves only with MOVE, or COPY then UID EXPUNGE of exactly the copies (UIDPLUS)."""
        return "MOVE" in self.capabilities or "UIDPLUS" in self.capabilities

    def notes(self) -> list[str]:
        """One line per capability butler uses: what the server offers and what that means."""
        lines = []
        for name, present, missing in _MEANING:
            if name in self.capabilities:
                lines.append(present)
            elif missing:
                lines.append(missing)
        if "MOVE" not in self.capabilities:
            lines.append("no MOVE: moves are a COPY, a check, then UID EXPUNGE of the copied originals"
                         if self.can_sweep else
                         "neither MOVE nor UIDPLUS: butler will not sweep this mailbox (an EXPUNGE could remove "
                         "other messages)")
        return lines

    def summary(self) -> str:
        shown = sorted(c for c in self.capabilities if not c.startswith("AUTH="))
        return (f"{self.host}:{self.port} ({'TLS' if self.tls else 'plain'}) answered in {self.seconds:.2f} s; "
                f"capabilities: {' '.join(shown)}")


def probe(settings: MailSettings, password: str, *, timeout: float = 10.0) -> ServerProbe:
    """Log in to the account of `settings` and read the server's capabilities (after login: some servers show
    MOVE only then). Raises MailSourceError when the server cannot be reached within `timeout`, MailAuthError
    when it refuses the login, MailConfigError when the settings name no server."""
    if not settings.host or not settings.username:
        raise MailConfigError("no IMAP host or user is set up", "Run `butler mail setup --host HOST --user USER`.")
    if not settings.tls and not (settings.allow_plaintext or is_loopback(settings.host)):
        raise MailConfigError(f"refusing plain IMAP to {settings.host}: the password would travel in clear")
    register_secret(password)
    where = f"{settings.host}:{settings.imap_port}"
    started = time.monotonic()
    try:
        context = ssl.create_default_context() if settings.tls else None
        client = IMAPClient(settings.host, port=settings.imap_port, ssl=settings.tls, ssl_context=context,
                            timeout=timeout)
    except (OSError, IMAPClientError) as exc:
        raise MailSourceError(f"cannot reach {where}: {exc}",
                              "Check the host and port (and --no-tls for a server without TLS), and that you "
                              "are online.") from None
    try:
        try:
            client.login(settings.username, password)
        except LoginError:
            raise MailAuthError(f"{settings.host} refused the login for {settings.username}",
                                "Check the user name and password (many providers want an app password).") from None
        except (OSError, IMAPClientError) as exc:
            raise MailSourceError(f"{where} failed during login: {exc}") from None
        try:
            caps = frozenset(c.decode(errors="replace").upper() if isinstance(c, bytes) else str(c).upper()
                             for c in client.capabilities())
        except (OSError, IMAPClientError) as exc:
            raise MailSourceError(f"{where} did not list its capabilities: {exc}") from None
    finally:
        try:
            client.logout()
        except (OSError, IMAPClientError):
            client.shutdown()
    return ServerProbe(settings.host, settings.imap_port, settings.tls, caps, time.monotonic() - started)
