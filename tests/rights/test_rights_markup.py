"""Reading transactional mail: schema.org JSON-LD and microdata, receipt shapes, and malformed input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from butler.rights.markup import json_ld, microdata, read


def _html(body: str, subject: str = "Hello", sender: str = "Shop <orders@mail.shop.example>",
          extra: str = "") -> bytes:
    return (f"From: {sender}\r\nSubject: {subject}\r\nDate: Tue, 02 Jun 2026 10:00:00 +0000\r\n"
            f"Message-ID: <m1@shop.example>\r\n{extra}Content-Type: text/html; charset=utf-8\r\n\r\n{body}").encode()


def test_json_ld_with_a_graph_gives_each_order_and_reservation() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "Order", "orderNumber": "A-1", "seller": {"name": "Shop GmbH"},
         "acceptedOffer": [{"itemOffered": {"name": "Kettle"}, "name": "Kettle offer"}],
         "priceSpecification": {}, "price": "12.50", "priceCurrency": "EUR"},
        {"@type": "FlightReservation", "reservationNumber": "XYZ9", "provider": {"name": "Air Ada"}}]}
    reading = read(_html(f'<script type="application/ld+json">{json.dumps(graph)}</script>'))
    assert [(t.type, t.number, t.seller) for t in reading.transactions] == [("order", "A-1", "Shop GmbH"),
                                                                           ("reservation", "XYZ9", "Air Ada")]
    assert reading.transactions[0].total == "12.50" and reading.transactions[0].currency == "EUR"
    assert reading.organisation == "Shop GmbH" and reading.domain == "mail.shop.example"


def test_microdata_nested_invoice_and_an_email_message_action() -> None:
    body = ('<div itemscope itemtype="http://schema.org/Invoice">'
            '<div itemprop="provider" itemscope itemtype="http://schema.org/Organization">'
            '<span itemprop="name">Power &amp; Light</span></div><span itemprop="confirmationNumber">INV-7</span>'
            '</div><div itemscope itemtype="http://schema.org/EmailMessage">'
            '<div itemprop="potentialAction" itemscope itemtype="http://schema.org/ViewAction">'
            '<link itemprop="target" href="https://shop.example/o/1"></div></div>')
    invoice, message = microdata(body)
    assert (invoice["@type"], invoice["provider"]["@type"], message["@type"]) == ("Invoice", "Organization",
                                                                                  "EmailMessage")
    assert message["potentialAction"] == {"@type": "ViewAction", "target": "https://shop.example/o/1"}
    reading = read(_html(body))
    assert [(t.type, t.number, t.seller) for t in reading.transactions] == [("invoice", "INV-7", "Power & Light")]
    assert reading.kinds == {"invoice", "action"}


def test_malformed_markup_is_said_plainly_and_the_rest_still_read() -> None:
    body = ('<script type="application/ld+json">{"@type": "Order", "orderNumber": </script>'
            '<div itemscope itemtype="http://schema.org/ParcelDelivery"><span itemprop="trackingNumber">T1'
            '<div itemscope><<<>>></div>')
    reading = read(_html(body, subject="Your parcel"))
    assert reading.problems == ["a JSON-LD block is not valid JSON (ignored)"]
    assert [(t.type, t.number) for t in reading.transactions] == [("delivery", "T1")]
    assert json_ld('<script type="application/ld+json">[1, "x", null]</script>') == ([], [])


@pytest.mark.parametrize(("subject", "text", "kind", "number", "total"), [
    ("Your order 4711-AB confirmed", "Total: €19.99", "order", "4711-AB", "19.99"),
    ("Ihre Rechnung Nr. RE-2026-01", "Gesamtbetrag 42,00 EUR", "invoice", "RE-2026-01", "42,00"),
    ("Votre commande n° C99812 est expédiée", "Montant total : 7.50 €", "delivery", "C99812", "7.50"),
    ("Your subscription renews soon", "Total $9.99", "subscription", "", "9.99"),
])
def test_receipt_shapes_without_markup(subject: str, text: str, kind: str, number: str, total: str) -> None:
    raw = (f"From: a@shop.example\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           f"{text}\r\n").encode()
    (transaction,) = read(raw).transactions
    assert (transaction.type, transaction.number, transaction.total, transaction.source) == (kind, number, total,
                                                                                            "shape")


def test_a_newsletter_without_markup_is_a_newsletter_and_personal_mail_is_nothing() -> None:
    assert read(_html("<p>Sale</p>", extra="List-Unsubscribe: <https://x.example/u>\r\n")).kinds == {"newsletter"}
    personal = read(b"From: Ana <ana@friends.example>\r\nSubject: Dinner?\r\n\r\nFriday at 8?\r\n")
    assert personal.kinds == set() and personal.transactions == []


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_give_a_reading_and_never_raise(raw: bytes) -> None:
    reading = read(raw)
    assert isinstance(reading.transactions, list)
