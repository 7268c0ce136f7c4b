"""The evidence a message carries, as named, weighted signals grouped by what they point at.

Groups: `list` (a discussion list), `bulk` (sent by a mass-mailing system), `offer` (selling something),
`ask` (asking for money or action: a donation, a petition, a survey, an event sign-up; `butler.mail.asks`),
`transactional` (a receipt, reset or notice), `personal` (written by a person to the person), `spam` (signs of
unsolicited or forged mail, not merely of bulk sending), `editorial` (articles, issues and news: what a newsletter
is), `trust` (the From domain signed or vouched for the message; `butler.mail.provenance`).
Pure functions of `MailFacts`; every signal has a plain-language note for `butler mail explain`.

Phrase signals are word sequences matched against the message's words (a bounded head and footer of the
text, lower-cased) with set operations and substring search, never a regex scan per phrase: the classifier
must keep up with a C spam filter.
"""

from __future__ import annotations

import re

from butler.mail.asks import ask_signals
from butler.mail.evidence import Signal, phrase_signals
from butler.mail.message import MailFacts
from butler.mail.phrases import BOOK, EDITORIAL, FOOTER, NEWS, OFFER, SPAM, SUBJECT_BOOK, TRANSACTIONAL
from butler.mail.provenance import provenance_signals

__all__ = ["GROUPS", "Signal", "extra_tokens", "read_signals", "tokens"]

GROUPS = ("list", "bulk", "offer", "ask", "transactional", "personal", "spam", "editorial", "trust")


_ESP_HEADERS = {
    "x-mailgun-sid": "Mailgun", "x-sg-eid": "SendGrid", "x-sg-id": "SendGrid", "x-mc-user": "Mailchimp",
    "x-mandrill-user": "Mandrill", "x-campaign": "a campaign tool", "x-campaignid": "a campaign tool",
    "x-campaign-id": "a campaign tool", "x-sfmc-stack": "Salesforce Marketing Cloud",
    "x-klaviyo-message-id": "Klaviyo", "x-ses-outgoing": "Amazon SES", "x-brevo-campaign": "Brevo",
    "x-mailin-campaign": "Brevo", "x-msys-api": "SparkPost", "x-pm-message-id": "Postmark",
    "x-cmae-virtual": "Campaign Monitor", "x-job": "Salesforce Marketing Cloud", "x-rpcampaign": "a campaign tool",
    "x-emv-campagneid": "Emailvision", "x-ms-exchange-organization-bulk": "a bulk sender",
    "x-listmember": "a list tool", "x-csa-complaints": "a Certified Senders Alliance member",
    "x-mj-mid": "Mailjet", "x-mailjet-campaign": "Mailjet", "x-hs-cid": "HubSpot", "x-marketoid": "Marketo",
    "x-mailer-recptid": "a bulk mailer", "x-report-abuse": "a bulk sender",
}
_ESP_HEADER_NAMES = frozenset(_ESP_HEADERS)
_ESP_DOMAINS = ("mcsv.net", "mcdlv.net", "rsgsv.net", "sendgrid.net", "amazonses.com", "mailgun", "sparkpost",
                "exacttarget", "klaviyo", "cmail1", "cmail2", "createsend", "mailjet", "sendinblue", "brevo", "emarsys",
                "responsys", "constantcontact", "bronto", "acoustic", "salesforce", "marketo", "hubspot",
                "list-manage.com", "mktomail", "eloqua", "braze", "iterable", "customeriomail", "mailchimp")
_BULK_MAILER = re.compile(r"(mail ?chimp|mailjet|sendinblue|brevo|klaviyo|hubspot|campaign monitor|constant ?contact|"
                          r"marketo|eloqua|mass ?mail|bulk ?mail|group ?mail|e-?mail ?blast|newsletter|"
                          r"list ?builder)", re.IGNORECASE)
_LIST_SOFTWARE = re.compile(r"(mailman|ezmlm|majordomo|listserv|sympa|lyris|mlmmj|google groups|groups\.io)",
                            re.IGNORECASE)
_BULK_SENDER = re.compile(r"^(no-?reply|newsletters?|news|marketing|promo(tions)?|offers?|deals|info|hello|email|"
                          r"mailer|specials?|sales|shop|store|campaign|mail)[.+_-]?[a-z0-9]*@")
_RANDOM_LOCAL = re.compile(r"^(?=[a-z0-9._-]{9,}@)(?:[a-z]+\d+[a-z]+\d*|[a-z]*\d{4,}[a-z]*)[._-]?[a-z0-9]*@")

# the standard legal footer of bulk mail: newsletters and receipts carry it too, so it says "bulk", never "selling"
# editorial content: what a newsletter is made of (articles, issues, headlines), as opposed to offers
_AD_MARK = re.compile(r"(?i)^\s*[\[(]?(?:adv|ad|werbung|anzeige|publicité|publicidad|pub|reklama|reklame)\s*[:\])]"
                      r"|未承諾広告")
_PERCENT = re.compile(r"\d{1,2} ?% ?(?:off|discount|rabatt|de descuento|de réduction|de remise|sconto|de desconto|"
                      r"korting|günstiger|reduziert)|(?:up to|bis zu|jusqu'(?:à|a)|hasta|fino al|até) -?\d{1,2} ?%"
                      r"|-\d{1,2} ?%")
# each money pattern is split at its alternation so the regex engine can skip ahead to a literal
_PRICE_SYMBOL = re.compile(r"[$€£] ?\d{1,5}(?:[.,]\d{2})?(?!\d)")
_PRICE_SUFFIX = re.compile(r"(?<!\d)\d{1,5}[.,]\d{2} ?(?:€|eur|usd|gbp|chf)(?![a-z])")
_CURRENCY_WORDS = frozenset({"eur", "usd", "gbp", "chf"})
_BIG_SUM = re.compile(r"[$€£] ?\d{1,3}(?:,\d{3})+")
_BIG_AMOUNT = re.compile(r"\d+ (?:million|billion) (?:dollars|usd|us\$)")
_SCHEMA_OFFER = re.compile(r"schema\.org/(?:DiscountOffer|PromotionCard|Offer\b|SaleEvent)|\"@type\"\s*:\s*\""
                           r"(?:DiscountOffer|PromotionCard|Offer|SaleEvent)\"", re.IGNORECASE)
# large display type: each pattern starts with a literal and runs on lower-cased HTML only when its literal occurs
# (one case-insensitive alternation over the HTML cost more than the rest of the offer signals together)
_FONT_TAG = re.compile(r"<font\b[^>]{0,200}\bsize\s*=\s*[\"']?\+?[4-7]")
_BANNER_TAG = re.compile(r"<(?:h1|center|blink|marquee)\b")
_FONT_SIZE = re.compile(r"font-size\s*:\s*(?:[2-9]\d|1[89])px")





_PERSONAL_CLIENTS = re.compile(r"(thunderbird|apple mail|iphone mail|outlook|mutt|evolution|k-?9|fairemail|"
                               r"roundcube|gnus|kmail|sylpheed|claws|pine|alpine|mozilla)", re.IGNORECASE)
_REPLY_SUBJECT = re.compile(r"(?i)^(re|aw|sv|fwd?|tr|wg)\s*:")
# a subject that names an issue or the newsletter itself
_ISSUE_SUBJECT = re.compile(r"(?i)\b(?:issue|edition|ausgabe|numéro|número|numero|vol\.?|nr\.?|no\.)\s*#?\d{1,4}\b|"
                            r"\b(?:newsletter|digest|bulletin|boletín|rundbrief|round-?up|"
                            r"lettre d'information|la lettre)\b")
_ISSUE_WORDS = frozenset({"issue", "edition", "ausgabe", "numéro", "número", "numero", "vol", "nr", "newsletter",
                          "digest", "bulletin", "boletín", "rundbrief", "roundup", "round", "lettre"})
# a specific order, invoice or booking reference: a receipt points at one
_ORDER_WORDS = frozenset({"order", "invoice", "booking", "bestellung", "rechnung", "commande", "facture", "pedido",
                          "factura", "ordine"})
_ORDER_REF = re.compile(r"(?i)\b(?:order|invoice|booking|bestellung|rechnung|commande|facture|pedido|factura|ordine)"
                        r"\s*(?:(?:no\.?|nr\.?|number|nummer|n°|n[úu]mero)\s*[:#]?|[:#])\s*[a-z]{0,3}-?\d{4,}")



# a link to an article: a date in its path (/2020/03/12/, /2020-03-12/) or a path naming a story; any language.
# Anchored at a line start, so each of the joined links counts once
_ARTICLE_PATH = re.compile(r"^[^\n]*?(?:/(?:19|20)\d\d[/-][01]?\d[/-]|/(?:article|story|stories|news|artikel|"
                           r"noticia|notizia|actualite)s?[/-])", re.MULTILINE)


def _phrases(f: MailFacts) -> dict[str, str]:
    """Every phrase signal found in the message's words, in one pass (cached on the facts' word set)."""
    return BOOK.search(f.words, f.joined)


def _bulk(f: MailFacts, phrase_hits: dict[str, str]) -> list[Signal]:
    out: list[Signal] = []
    post = f.header("list-unsubscribe-post").lower().replace(" ", "")
    unsub = f.header("list-unsubscribe")
    if "list-unsubscribe=one-click" in post and unsub:
        out.append(Signal("bulk", "one-click-unsubscribe", 2.0, "offers RFC 8058 one-click unsubscribe"))
    elif unsub:
        out.append(Signal("bulk", "list-unsubscribe", 1.0, "has a List-Unsubscribe header"))
    if f.has("feedback-id"):
        out.append(Signal("bulk", "feedback-id", 1.0, "has a Feedback-ID (a bulk sender's campaign id)"))
    precedence = f.header("precedence").lower()
    if precedence in ("bulk", "junk"):
        out.append(Signal("bulk", "precedence-bulk", 1.0, f"Precedence: {precedence}"))
    esp_headers = _ESP_HEADER_NAMES.intersection(f.raw_headers)
    esp = next((name for header, name in _ESP_HEADERS.items() if header in esp_headers), None) if esp_headers \
        else None
    if esp is None:
        mailer = f.header("x-mailer")
        match = _BULK_MAILER.search(mailer) if mailer else None
        if match is None:
            raw = f.raw_headers  # substrings only: the uncleaned values will do
            trail = " ".join(raw.get(h, "") for h in ("return-path", "received", "dkim-signature", "sender")).lower()
            esp = next((domain for domain in _ESP_DOMAINS if domain in trail), None)
        else:
            esp = match.group(1)
    if esp:
        out.append(Signal("bulk", "esp", 1.0, f"sent through {esp}"))
    if _BULK_SENDER.match(f.sender):
        out.append(Signal("bulk", "bulk-address", 0.5, f"sent from a mass-mail address ({f.sender})"))
    if f.tracking_pixels:
        out.append(Signal("bulk", "tracking-pixel", 1.0, "contains a tracking pixel"))
    out += phrase_signals("bulk", (FOOTER,), phrase_hits)
    return out


def _editorial(f: MailFacts, phrase_hits: dict[str, str]) -> list[Signal]:
    out = phrase_signals("editorial", (EDITORIAL, NEWS), phrase_hits)
    if f.links_at_least(2) and len(_ARTICLE_PATH.findall("\n".join(set(f.urls[:200])))) >= 2:
        out.append(Signal("editorial", "article-links", 1.0, "links to dated or named articles"))
    subject = f.subject
    # the regex runs only when one of its words is among the message's words (they include the subject's)
    if subject and (not _ISSUE_WORDS.isdisjoint(f.words) or "o." in subject) and _ISSUE_SUBJECT.search(subject):
        out.append(Signal("editorial", "issue-subject", 1.0, "the subject names an issue or a newsletter"))
    return out


def _list(f: MailFacts) -> list[Signal]:
    out: list[Signal] = []
    if f.has("list-post"):
        out.append(Signal("list", "list-post", 3.0, "has List-Post: members can write to the list"))
    if f.has("x-mailing-list") or f.has("mailing-list"):
        out.append(Signal("list", "mailing-list", 3.0, "has a Mailing-List header"))
    software_header = f.has("x-mailman-version") or f.has("x-beenthere") or f.has("x-ml-name")
    if not software_header:
        raw = f.raw_headers  # a name search: the uncleaned values will do
        software = " ".join(raw.get(h, "") for h in ("list-id", "list-help", "sender", "x-loop", "mailing-list"))
        software_header = bool(software.strip()) and _LIST_SOFTWARE.search(software) is not None
    if software_header:
        out.append(Signal("list", "list-software", 2.0, "distributed by discussion-list software"))
    return out


def _styled(lower_html: str) -> bool:
    """Large display type or centred banners in lower-cased HTML."""
    return (("<font" in lower_html and _FONT_TAG.search(lower_html) is not None)
            or (("<h1" in lower_html or "<center" in lower_html or "<blink" in lower_html or "<marquee" in lower_html)
                and _BANNER_TAG.search(lower_html) is not None)
            or ("font-size" in lower_html and _FONT_SIZE.search(lower_html) is not None))


def _percent_discount(content: str) -> bool:
    """`_PERCENT` searched only around each '%' sign (at most 20 of them), not across the whole text."""
    at = content.find("%")
    for _ in range(20):
        if at < 0:
            return False
        if _PERCENT.search(content, max(0, at - 20), at + 20):
            return True
        at = content.find("%", at + 1)
    return False


def _offer(f: MailFacts, phrase_hits: dict[str, str]) -> list[Signal]:
    out = phrase_signals("offer", OFFER, phrase_hits)
    words, content = f.words, f.content
    if "%" in content and _percent_discount(content):
        out.append(Signal("offer", "a-percentage-discount", 2.0, "a percentage discount"))
    if _AD_MARK.search(f.subject):
        out.append(Signal("offer", "ad-label", 2.5, "labelled as an advertisement"))
    symbol = "$" in content or "€" in content or "£" in content
    suffix = "€" in content or not _CURRENCY_WORDS.isdisjoint(words)
    if symbol or suffix:
        prices = (len(_PRICE_SYMBOL.findall(content)) if symbol else 0) + (
            len(_PRICE_SUFFIX.findall(content)) if suffix else 0)
        if prices >= 2:
            out.append(Signal("offer", "prices", 1.0 if prices < 4 else 1.5, f"quotes {prices} prices"))
    if f.html:
        if "schema.org" in f.html and _SCHEMA_OFFER.search(f.html):
            out.append(Signal("offer", "schema-offer", 3.0, "carries schema.org offer/promotion markup"))
        if f.images >= 4 and len(f.text) < 300 * f.images:
            out.append(Signal("offer", "image-heavy", 1.0, f"image-heavy HTML ({f.images} images)"))
        elif f.images and len(f.text) < 200:
            out.append(Signal("offer", "image-over-text", 1.0, "pictures with almost no text"))
        if _styled(f.html[:8000].lower()):
            out.append(Signal("offer", "display-type", 0.5, "large display type or centred banners"))
    if f.links_at_least(15):
        out.append(Signal("offer", "many-links", 0.5, f"{f.links} links"))
    subject = f.subject
    letters = sum(map(str.isalpha, subject))
    if subject.count("!") >= 2 or "$" in subject or (letters > 10 and sum(map(str.isupper, subject)) > 0.6 * letters):
        out.append(Signal("offer", "shouting-subject", 1.0, "a shouting subject"))
    if content.count("!") >= 8 or "!!!" in content:
        out.append(Signal("offer", "exclamations", 0.5, "many exclamation marks"))
    return out


def _transactional(f: MailFacts, phrase_hits: dict[str, str]) -> list[Signal]:
    out: list[Signal] = []
    subject_words = f.subject_words
    in_subject = SUBJECT_BOOK.search(frozenset(subject_words), f" {' '.join(subject_words)} ") if subject_words \
        else {}
    for phrases in TRANSACTIONAL:
        if phrases.name in in_subject:
            out.append(Signal("transactional", "subject:" + phrases.name, 3.0, f"the subject is {phrases.note}"))
        elif phrases.name in phrase_hits:
            out.append(Signal("transactional", "body:" + phrases.name, 1.0, f"the text is about {phrases.note}"))
    # an order number only matters next to other receipt evidence (alone it is below any verdict): looked for then
    if out and not _ORDER_WORDS.isdisjoint(f.words):
        match = _ORDER_REF.search(f.content[:3000])
        if match:
            out.append(Signal("transactional", "order-reference", 1.5,
                              f"names one order or invoice ({match.group()!r})"))
    return out


def _personal(f: MailFacts) -> list[Signal]:
    out: list[Signal] = []
    if f.has("in-reply-to") or f.has("references"):
        out.append(Signal("personal", "reply", 2.0, "replies to an earlier message"))
    if _REPLY_SUBJECT.match(f.subject):
        out.append(Signal("personal", "reply-subject", 1.0, "a reply or forward subject"))
    raw = f.raw_headers
    if _PERSONAL_CLIENTS.search(raw.get("x-mailer", "") + " " + raw.get("user-agent", "")):
        out.append(Signal("personal", "mail-client", 0.5, "written in a personal mail client"))
    if f.quoted >= 2 or ("wrote" in f.words and f.quoted):
        out.append(Signal("personal", "quoted-text", 1.0, "quotes the message it answers"))
    if not f.html and not f.links_at_least(4) and not f.has("list-unsubscribe"):
        out.append(Signal("personal", "plain-text", 1.0, "plain text with few links"))
    return out


def _spam(f: MailFacts, phrase_hits: dict[str, str]) -> list[Signal]:
    out: list[Signal] = []
    flag = f.header("x-spam-flag").lower() + " " + f.header("x-spam-status")[:4].lower()
    if "yes" in flag:
        out.append(Signal("spam", "spam-flag", 5.0, "a spam filter upstream flagged it"))
    out += phrase_signals("spam", SPAM, phrase_hits)
    content = f.content
    if (("$" in content or "€" in content or "£" in content) and _BIG_SUM.search(content)) or (
            ("million" in f.words or "billion" in f.words) and _BIG_AMOUNT.search(content)):
        out.append(Signal("spam", "big-money", 1.0, "talks about large sums of money"))
    if not f.message_id:
        out.append(Signal("spam", "no-message-id", 0.5, "no Message-ID"))
    if not f.has("date"):
        out.append(Signal("spam", "no-date", 0.5, "no Date header"))
    if not f.has_recipient() or "undisclosed" in f.header("to").lower():
        out.append(Signal("spam", "hidden-recipients", 0.5, "no visible recipient"))
    if f.html_only and not f.has("list-unsubscribe"):
        out.append(Signal("spam", "html-only", 0.5, "HTML without a text part or unsubscribe header"))
    if FOOTER.name in phrase_hits and not (f.has("list-unsubscribe") or f.has("list-id") or f.has("feedback-id")
                                            or _ESP_HEADER_NAMES.intersection(f.raw_headers)):
        out.append(Signal("spam", "footer-without-header", 1.0, "an unsubscribe footer without the headers of a "
                          "legitimate bulk sender (List-Unsubscribe, Feedback-ID, an ESP's)"))
    if _RANDOM_LOCAL.match(f.sender):
        out.append(Signal("spam", "random-sender", 1.0, f"a machine-made sender address ({f.sender})"))
    return out


def read_signals(f: MailFacts) -> list[Signal]:
    """Every signal the message carries."""
    hits = _phrases(f)
    return [*_list(f), *_bulk(f, hits), *_offer(f, hits), *ask_signals(f, hits), *_transactional(f, hits),
            *_personal(f), *_spam(f, hits), *_editorial(f, hits), *provenance_signals(f)]


def tokens(f: MailFacts, signals: list[Signal]) -> frozenset[str]:
    """Tokens for the learned model: the message's words (the same words the phrase signals read, `f.words`: no
    second tokenization) and `extra_tokens`."""
    return f.words.union(extra_tokens(f, signals))


def extra_tokens(f: MailFacts, signals: list[Signal]) -> list[str]:
    """Model tokens beyond the words: signal names and the sender's domain.

    Subject words are not added a second time (`f.words` holds them already, and naive Bayes would count the same
    evidence twice), nor are link domains (no measured effect on the benchmark, and reading them cost a sixth of
    the classification time); see docs/mail.md.
    """
    extra = [f"sig:{s.name}" for s in signals]
    if f.sender_domain:
        extra.append("from:" + ".".join(f.sender_domain.split(".")[-2:]))
    return extra
