"""Constructed messages for the mail tests: promotions, receipts, personal and list mail."""

from __future__ import annotations

import itertools

__all__ = ["list_mail", "personal", "promotion", "receipt", "spam"]

_n = itertools.count(1)


def _mid(domain: str) -> str:
    return f"<{next(_n)}.test@{domain}>"


def promotion(brand: str = "shoply.example", *, one_click: str | None = None, subject: str = "",
              message_id: str | None = None) -> bytes:
    """A promotion; `message_id` "" leaves the header out, any other string is the header's whole value (it may
    be folded: "\r\n <id@x>")."""
    unsub = one_click or f"https://{brand}/u/abc123"
    mid = "" if message_id == "" else f"Message-ID: {_mid(brand) if message_id is None else message_id}\n"
    return f"""From: {brand.split('.')[0].title()} <news@{brand}>
To: person@home.example
Subject: {subject or '48 hours only: 30% off everything'}
{mid}Date: Mon, 02 Jun 2025 10:00:00 +0000
List-Unsubscribe: <{unsub}>, <mailto:unsub@{brand}>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
Feedback-ID: campaign42:{brand}:sendgrid
X-SG-EID: abcdef
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><img src="https://{brand}/hero.jpg"><h1>Summer sale</h1>
<p>Save up to 30% off. Use code SUMMER30 at checkout. Shop now, offer ends Sunday!</p>
<p>Sneakers $59.99 <s>$89.99</s>, jackets $120.00</p>
<a href="https://{brand}/shop">Shop now</a> <a href="https://{brand}/prefs">Manage preferences</a>
<img src="https://t.{brand}/o.gif" width="1" height="1"></body></html>
""".replace("\n", "\r\n").encode()


def receipt(brand: str = "shoply.example") -> bytes:
    return f"""From: {brand.split('.')[0].title()} <orders@{brand}>
To: person@home.example
Subject: Your order #48213 has shipped
Message-ID: {_mid(brand)}
Date: Mon, 02 Jun 2025 11:00:00 +0000
Feedback-ID: orders:{brand}:sendgrid
List-Unsubscribe: <https://{brand}/u/abc123>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Thanks for your order. Sneakers $59.99, shipping $4.99, total $64.98.
Tracking number 1Z999AA10123456784. Use code THANKS10 on your next order for 10% off.
""".replace("\n", "\r\n").encode()


def personal(sender: str = "ana@friends.example", subject: str = "Dinner on Friday?") -> bytes:
    return f"""From: Ana <{sender}>
To: person@home.example
Subject: {subject}
Message-ID: {_mid('friends.example')}
Date: Mon, 02 Jun 2025 12:00:00 +0000
Content-Type: text/plain; charset=utf-8

Hi! Are you free on Friday? We could try the new place near the station.
Ana
""".replace("\n", "\r\n").encode()


def list_mail() -> bytes:
    return f"""From: Bob <bob@dev.example>
To: python-dev@lists.example
Subject: [python-dev] Free-threading benchmarks: 30% off the old numbers
Message-ID: {_mid('dev.example')}
List-Id: <python-dev.lists.example>
List-Post: <mailto:python-dev@lists.example>
List-Unsubscribe: <https://lists.example/unsub>, <mailto:python-dev-leave@lists.example>
X-Mailman-Version: 2.1.39
Precedence: list
Content-Type: text/plain; charset=utf-8

The new build is 30% off the old numbers on the benchmark suite; details below.
""".replace("\n", "\r\n").encode()


def spam(n: int = 0) -> bytes:
    return f"""From: Winner Desk <x8f3k2{n}@lotto-win.example>
To: undisclosed-recipients:;
Subject: URGENT: you have won $1,000,000 ({n})
Message-ID: {_mid('lotto-win.example')}
Date: Mon, 02 Jun 2025 13:00:00 +0000
X-Spam-Flag: YES
Content-Type: text/plain; charset=utf-8

Dear friend, claim your prize now. Send your bank details today. This is not spam.
""".replace("\n", "\r\n").encode()
