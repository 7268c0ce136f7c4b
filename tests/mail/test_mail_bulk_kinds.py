"""Bulk mail of different kinds: the legal footer says "bulk", not "spam"; newsletters are not promotions; a brand's
own servers send promotions, not spam."""

from __future__ import annotations

import pytest

from butler.mail import Category, classify
from butler.mail.settings import MailSettings

FOOTERS = [
    "You are receiving this email because you signed up at brand.example. View in browser | Manage your preferences"
    " | Unsubscribe",
    "Sie erhalten diese E-Mail, weil Sie sich angemeldet haben. Im Browser ansehen. Abmelden.",
    "Vous recevez cet e-mail car vous êtes inscrit. Voir la version en ligne. Se désabonner.",
    "Recibes este correo porque te suscribiste. Ver en el navegador. Darse de baja.",
]


def _bulk(subject: str, body: str, *, esp: bool = False) -> bytes:
    headers = [
        "From: Brand <news@brand.example>", "To: me@home.example", f"Subject: {subject}",
        "Date: Mon, 2 Mar 2026 10:00:00 +0000", "Message-ID: <m1@mail.brand.example>",
        "List-Unsubscribe: <https://brand.example/u/1>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Received: from mail.brand.example (mail.brand.example [203.0.113.5])",
    ]
    if esp:
        headers.append("X-Mailgun-Sid: abc")
    html = f"<html><body><p>Home Women Men Sale</p><p>{body}</p></body></html>"
    return ("\r\n".join(headers) + "\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html).encode()


@pytest.mark.parametrize("footer", FOOTERS)
def test_the_legal_footer_is_a_bulk_signal_not_spam(footer: str) -> None:
    c = classify(_bulk("The Brand journal, issue 12", f"In this issue: an interview with our designer. {footer}"))
    by_name = {s.name: s.group for s in c.signals}
    assert by_name.get("a-marketing-footer") == "bulk"
    assert not any(s.group == "spam" and s.weight >= 2 for s in c.signals)
    assert c.category is Category.NEWSLETTER
    assert c.category.value not in MailSettings().move_categories


@pytest.mark.parametrize("footer", FOOTERS)
def test_a_receipt_with_the_legal_footer_and_an_upsell_stays(footer: str) -> None:
    body = f"We got your order #48393 for the desk lamp. You might also like our lamps: 30% off for members. {footer}"
    assert classify(_bulk("Thanks, Ana!", body)).category is Category.TRANSACTIONAL


def test_a_brands_own_servers_send_promotions_not_spam() -> None:
    body = f"Shop now and save 20% off. Use code SAVE20 at checkout. {FOOTERS[0]}"
    assert classify(_bulk("20% off this weekend", body)).category is Category.PROMOTION
    assert classify(_bulk("20% off this weekend", body, esp=True)).category is Category.PROMOTION


def test_a_nav_bar_sale_link_does_not_make_a_newsletter_a_promotion() -> None:
    body = f"Read more: three stories from our workshop and letters from readers. {FOOTERS[0]}"
    assert classify(_bulk("Brand newsletter", body)).category is Category.NEWSLETTER


def test_an_unsubscribe_footer_without_any_bulk_header_is_spam_evidence() -> None:
    raw = (b"From: Deals <x8812@cheap.example>\r\nSubject: Best prices\r\nContent-Type: text/html\r\n\r\n"
           b"<p>Order now! Limited time, buy today. You are receiving this email because you opted in. "
           b"Click here to unsubscribe.</p>")
    c = classify(raw)
    assert "footer-without-header" in {s.name for s in c.signals}
    assert c.category is Category.SPAM
