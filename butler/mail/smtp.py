"""Sending the one kind of mail butler ever sends: a `mailto:` unsubscribe request, through the person's SMTP
server (settings `smtp_*`), over TLS unless the server is 127.0.0.1 or plaintext was allowed explicitly.

A sender is built only when SMTP is set up; without it no mail is sent at all.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from butler.log import register_secret
from butler.mail.errors import MailAuthError, MailSourceError
from butler.mail.settings import MailSettings

__all__ = ["SmtpSender"]

_TIMEOUT = 20.0


class SmtpSender:
    """Sends one plain-text message per call; raises MailAuthError or MailSourceError (nothing secret in them)."""

    def __init__(self, settings: MailSettings, password: str | None) -> None:
        if not settings.smtp_host or not settings.sender_address:
            raise ValueError("SMTP is not set up")
        self.settings = settings
        self._password = password
        if password:
            register_secret(password)

    @property
    def address(self) -> str:
        return str(self.settings.sender_address)

    def send(self, to: str, subject: str, body: str) -> str:
        """Send to exactly one recipient; returns the Message-ID."""
        s = self.settings
        message = EmailMessage()
        message["From"] = self.address
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.address.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no person typed it, nobody should auto-reply
        message.set_content(body or "unsubscribe")
        host, port = str(s.smtp_host), s.smtp_port_number
        try:
            client: smtplib.SMTP
            if s.smtp_security == "ssl":
                client = smtplib.SMTP_SSL(host, port, timeout=_TIMEOUT, context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(host, port, timeout=_TIMEOUT)
            with client:
                if s.smtp_security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if self._password and s.smtp_user:
                    _login(client, s.smtp_user, self._password)
                client.send_message(message, from_addr=self.address, to_addrs=[to])
        except smtplib.SMTPAuthenticationError:
            raise MailAuthError(f"the SMTP server {host} refused the login for {s.smtp_user}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailSourceError(f"could not send through {host}:{port}: {type(exc).__name__}") from None
        return str(message["Message-ID"])


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    """One login with one mechanism (PLAIN, else LOGIN): a refused password is not tried again with every other
    mechanism the server offers, which only adds failed logins to the account's record."""
    client.ehlo_or_helo_if_needed()
    offered = client.esmtp_features.get("auth", "").upper().split()
    mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        offers = " ".join(offered) or "none"
        raise MailSourceError(f"the SMTP server offers no PLAIN or LOGIN login (it offers {offers})")
    client.user, client.password = user, password
    client.auth(mechanism, client.auth_plain if mechanism == "PLAIN" else client.auth_login)
