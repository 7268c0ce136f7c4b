"""A generated mailbox for discovery: transactional mail and newsletters from real brands' domains (taken from the
company database), in the shapes shops send: schema.org JSON-LD and microdata, plain receipts, newsletters."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from email.utils import formataddr
from pathlib import Path

from butler.rights.database import Company, Database
from butler.rights.matching import NameIndex, normalised

__all__ = ["Brand", "brand_messages", "brands", "write_maildir"]

_n = itertools.count(1)


@dataclass(frozen=True)
class Brand:
    domain: str
    name: str
    slug: str | None  # the company record it is, None for a brand the database lacks
    via: str = "web domain"  # what should find the record: web domain, e-mail domain, runs


def _spread(companies: list[Company], n: int) -> list[Company]:
    ordered = sorted(companies, key=lambda c: c.slug)
    return ordered[::max(1, len(ordered) // n)][:n] if n else []


def brands(database: Database, known: int, unknown: int, *, by_mail: int = 0, by_runs: int = 0) -> list[Brand]:
    """Brands spread over the database: `known` mailing from their web domain (one company's alone), `by_mail`
    from the domain of their privacy address (not a web domain), `by_runs` from a domain the database lacks under
    a name from one record's `runs` list; and `unknown` made-up shops the database cannot know."""
    single = [c for cs in database.by_web.values() if len(cs) == 1 for c in cs if c.quality == "verified"]
    out = [Brand(c.web_domain, c.name, c.slug) for c in _spread(single, known)]
    mail_only = [c for cs in database.by_email.values() if len(cs) == 1 for c in cs
                 if c.email_domain not in database.by_web and c.email_domain != c.web_domain]
    out += [Brand(c.email_domain, c.name, c.slug, "e-mail domain") for c in _spread(mail_only, by_mail)]
    index = NameIndex(database)
    runs = {}
    for c in database.companies.values():
        for brand in c.runs:
            key = normalised(brand)
            if (len(key) >= 5 and key.replace(" ", "").isalpha() and len(index.runs.get(key, [])) == 1
                    and key not in index.names and key.split()[0] not in index.labels):
                runs[brand] = c
    picked = sorted(runs.items())[::max(1, len(runs) // max(1, by_runs))][:by_runs]
    out += [Brand(f"{normalised(b).replace(' ', '-')}-mail.example", b, c.slug, "runs") for b, c in picked]
    out += [Brand(f"kettle-shop-{i}.example", f"Kettle Shop {i}", None, "none") for i in range(unknown)]
    return out


def _head(sender: str, name: str, subject: str, day: int, extra: str = "", kind: str = "html") -> str:
    return (f"From: {formataddr((name, sender))}\nTo: Ada <ada@home.example>\nSubject: {subject}\n"
            f"Message-ID: <{next(_n)}.gen@{sender.partition('@')[2]}>\n"
            f"Date: Mon, {1 + day % 28:02d} Jun 2026 10:{day % 60:02d}:00 +0000\n{extra}"
            f"MIME-Version: 1.0\nContent-Type: text/{kind}; charset=utf-8\n\n")


def _order(b: Brand, i: int) -> str:
    ld = {"@context": "http://schema.org", "@type": "Order", "merchant": {"@type": "Organization", "name": b.name},
          "orderNumber": f"ORD-{i:05d}", "price": f"{10 + i % 90}.99", "priceCurrency": "EUR",
          "acceptedOffer": {"@type": "Offer", "itemOffered": {"@type": "Product", "name": "Kettle"}}}
    return (_head(f"orders@{b.domain}", b.name, f"Your order ORD-{i:05d}", i)
            + f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head>'
              "<body><p>Thank you for your order.</p></body></html>\n")


def _invoice(b: Brand, i: int) -> str:
    return (_head(f"billing@mail.{b.domain}", b.name, "Your invoice", i)
            + '<html><body><div itemscope itemtype="http://schema.org/Invoice">'
              f'<div itemprop="provider" itemscope itemtype="http://schema.org/Organization">'
              f'<span itemprop="name">{b.name}</span></div>'
              f'<span itemprop="confirmationNumber">INV-{i:05d}</span>'
              '<div itemprop="totalPaymentDue" itemscope itemtype="http://schema.org/PriceSpecification">'
              '<meta itemprop="price" content="19.99"><meta itemprop="priceCurrency" content="EUR"></div>'
              "</div></body></html>\n")


def _delivery(b: Brand, i: int) -> str:
    ld = {"@context": "http://schema.org", "@type": "ParcelDelivery", "trackingNumber": f"TRK{i:08d}",
          "carrier": {"@type": "Organization", "name": "DHL"},
          "partOfOrder": {"@type": "Order", "orderNumber": f"ORD-{i - 1:05d}",
                          "merchant": {"@type": "Organization", "name": b.name}}}
    return (_head(f"shipping@{b.domain}", b.name, "Your parcel is on its way", i)
            + f'<html><script type="application/ld+json">{json.dumps(ld)}</script><p>Tracking inside.</p></html>\n')


def _receipt(b: Brand, i: int) -> str:
    return (_head(f"no-reply@{b.domain}", b.name, f"Receipt for your payment {i}", i, kind="plain")
            + f"Thank you. Order number: R{i:06d}\nTotal: EUR 42.00\n")


def _newsletter(b: Brand, i: int) -> str:
    return (_head(f"news@news.{b.domain}", b.name, "This week's offers", i,
                  extra=f"List-Unsubscribe: <https://{b.domain}/u/{i}>\n")
            + "<html><body><h1>Sale</h1><p>Up to 30% off.</p></body></html>\n")


def _reservation(b: Brand, i: int) -> str:
    ld = [{"@context": "http://schema.org", "@type": "LodgingReservation", "reservationNumber": f"RES{i}",
           "provider": {"@type": "Organization", "name": b.name},
           "reservationFor": {"@type": "LodgingBusiness", "name": "Hotel Ada"}}]
    return (_head(f"bookings@{b.domain}", b.name, "Booking confirmed", i)
            + f'<html><script type="application/ld+json">{json.dumps(ld)}</script></html>\n')


SHAPES = [_order, _invoice, _delivery, _receipt, _newsletter, _reservation, _order, _newsletter, _receipt]


def brand_messages(every: list[Brand], per_brand: int) -> list[bytes]:
    out = []
    for k, brand in enumerate(every):
        for j in range(per_brand):
            out.append(SHAPES[(j + k) % len(SHAPES)](brand, k * 100 + j).replace("\n", "\r\n").encode())
    return out


def write_maildir(root: Path, messages: list[bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for n, raw in enumerate(messages):
        (root / "cur" / f"{1700000000 + n}.M{n}P1.test:2,S").write_bytes(raw)
    return root
