"""The evidence a message carries, as named, weighted signals grouped by what they point at.

Groups: `list` (a discussion list), `bulk` (sent by a mass-mailing system), `offer` (selling something),
`transactional` (a receipt, reset or notice), `personal` (written by a person to the person), `spam`.
Pure functions of `MailFacts`; every signal has a plain-language note for `butler mail explain`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from butler.mail.message import MailFacts

__all__ = ["GROUPS", "Signal", "read_signals", "tokens"]

GROUPS = ("list", "bulk", "offer", "transactional", "personal", "spam")


@dataclass(frozen=True)
class Signal:
    group: str
    name: str
    weight: float
    note: str


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_ESP_HEADERS = {
    "x-mailgun-sid": "Mailgun", "x-sg-eid": "SendGrid", "x-sg-id": "SendGrid", "x-mc-user": "Mailchimp",
    "x-mandrill-user": "Mandrill", "x-campaign": "a campaign tool", "x-campaignid": "a campaign tool",
    "x-sfmc-stack": "Salesforce Marketing Cloud", "x-klaviyo-message-id": "Klaviyo", "x-ses-outgoing": "Amazon SES",
    "x-brevo-campaign": "Brevo", "x-mailin-campaign": "Brevo", "x-msys-api": "SparkPost", "x-pm-message-id": "Postmark",
    "x-cmae-virtual": "Campaign Monitor", "x-job": "Salesforce Marketing Cloud", "x-rpcampaign": "a campaign tool",
    "x-emv-campagneid": "Emailvision", "x-ms-exchange-organization-bulk": "a bulk sender",
    "x-listmember": "a list tool",
}
_ESP_DOMAINS = _rx(r"(mcsv\.net|mcdlv\.net|rsgsv\.net|sendgrid\.net|amazonses\.com|mailgun|sparkpost|exacttarget|"
                   r"klaviyo|cmail\d*\.com|createsend|bnc3\.mailjet|mailjet|sendinblue|brevo|emarsys|responsys|"
                   r"constantcontact|bronto|acoustic|salesforce|marketo|hubspot|list-manage\.com)")
_LIST_SOFTWARE = _rx(r"(mailman|ezmlm|majordomo|listserv|sympa|lyris|mlmmj|google groups|groups\.io)")
_BULK_SENDER = _rx(r"^(no-?reply|newsletter|news|marketing|promo(tions)?|offers?|deals|info|hello|email|mailer)"
                   r"[.+_-]?[a-z0-9]*@")

_OFFER = [
    (_rx(r"\b\d{1,2}\s?%\s?(off|discount|rabatt|de descuento|de réduction)\b|\bup to \d{1,2}\s?%"), 2.0,
     "a percentage discount"),
    (_rx(r"\b(promo|discount|coupon|voucher|offer)\s*code\b|\buse code\s*:?\s*[A-Z0-9]{3,}"), 2.0, "a discount code"),
    (_rx(r"\b(shop|buy|order|book|get (it|yours)|claim( your)?|grab|download|subscribe|start saving) now\b"),
     1.5, "a call to buy"),
    (_rx(r"\b(limited[- ]time|today only|ends (tonight|today|soon|sunday|midnight)|last chance|hurry|"
         r"don'?t miss|while (supplies|stocks) last|only \d+ (hours|days) left|act now|expires? (soon|today))\b"),
     1.5, "urgency"),
    (_rx(r"\b(free (shipping|delivery|gift|trial)|flash sale|clearance|black friday|cyber monday|"
         r"best (deals?|prices?)|lowest price|new arrivals|bestsellers?|special offer|exclusive (offer|deal)|"
         r"members? only|sale\b|save (up to|big|\$|€|£)|bogo|buy one get)"), 1.5, "sales language"),
    (_rx(r"\b(click here|click below|visit our (web)?site|call (now|today|toll[- ]free)|order today|"
         r"risk[- ]free|money[- ]back|guarantee[d]?|no obligation|100% (free|satisfied))"), 1.0,
     "direct-marketing phrasing"),
    (_rx(r"\b(unsubscribe|opt[- ]?out|manage (your )?preferences|email preferences|"
         r"you are receiving this|you received this|this (e-?mail|message) was sent to)\b"), 0.7,
     "a marketing footer"),
]
_PRICE = _rx(r"(?:[$€£]\s?\d{1,5}(?:[.,]\d{2})?\b|\b\d{1,5}[.,]\d{2}\s?(?:€|eur|usd|gbp)\b)")
_SCHEMA_OFFER = _rx(r"schema\.org/(DiscountOffer|PromotionCard|Offer\b|SaleEvent)|\"@type\"\s*:\s*\"(DiscountOffer|"
                    r"PromotionCard)\"")

_TRANSACTIONAL = [
    (_rx(r"\b(your (order|purchase|receipt|invoice|booking|reservation|payment|refund|subscription|statement|bill)|"
         r"order (#|no\.?|number|confirm)|receipt (for|from)|invoice (#|no\.?|\d)|payment (received|confirm|failed)|"
         r"(has|have) (been )?(shipped|dispatched|delivered)|out for delivery|tracking (number|info)|"
         r"delivery (update|status))\b"), "a purchase or delivery"),
    (_rx(r"\b(reset (your )?password|password (reset|change|was changed)|verify your (e-?mail|account)|"
         r"confirm your (e-?mail|account|address)|verification code|one[- ]time (code|password)|security (alert|code)|"
         r"new (sign[- ]?in|login)|sign[- ]?in attempt|two[- ]factor|2fa code|login code)\b"), "account security"),
    (_rx(r"\b(account (update|notice|notification|change)|terms of (service|use) (update|change)|privacy policy "
         r"update|your (plan|membership) (will )?(renew|expire|change)|renewal (notice|reminder)|"
         r"payment (method|due)|card (expir|declin))"), "an account notice"),
]
_PERSONAL_CLIENTS = _rx(r"(thunderbird|apple mail|iphone mail|outlook|mutt|evolution|k-?9|fairemail|roundcube|"
                        r"gnus|kmail|sylpheed|claws|pine|alpine|mozilla)")
_SPAM = [
    (_rx(r"\b(to be removed|remove me|removal instructions|reply with remove|this is not (spam|a spam)|"
         r"bill s\.? ?1618|not unsolicited|one[- ]time (e-?)?mail(ing)?|you (are )?receiv(ed|ing) this (e-?mail "
         r"|message )?because you)"), 2.0, "a removal or not-spam claim"),
    (_rx(r"\b(million (dollars|usd)|wire transfer|next of kin|beneficiary|lottery|winner|viagra|cialis|"
         r"mortgage|refinanc\w*|credit (card|repair|score)|debt|earn (\$|money|extra)|work (from|at) home|"
         r"make money|lose (weight|\d+ ?(lbs|pounds))|casino|pharmacy|adult|xxx|cash|investment|income|"
         r"stock (alert|pick)|penny stock|free money|meds|herbal)\b"), 1.5, "scam or junk vocabulary"),
]
_WORD = re.compile(r"[a-zà-ÿ][a-zà-ÿ'-]{2,19}")


def _bulk(f: MailFacts) -> list[Signal]:
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
    esp = next((name for header, name in _ESP_HEADERS.items() if f.has(header)), None)
    if esp is None:
        trail = " ".join(f.header(h) for h in ("return-path", "x-mailer", "received", "dkim-signature", "sender"))
        match = _ESP_DOMAINS.search(trail)
        esp = match.group(1) if match else None
    if esp:
        out.append(Signal("bulk", "esp", 1.0, f"sent through {esp}"))
    if _BULK_SENDER.match(f.sender):
        out.append(Signal("bulk", "bulk-address", 0.5, f"sent from a mass-mail address ({f.sender})"))
    if f.tracking_pixels:
        out.append(Signal("bulk", "tracking-pixel", 1.0, "contains a tracking pixel"))
    return out


def _list(f: MailFacts) -> list[Signal]:
    out: list[Signal] = []
    if f.has("list-post"):
        out.append(Signal("list", "list-post", 3.0, "has List-Post: members can write to the list"))
    if f.has("x-mailing-list") or f.has("mailing-list"):
        out.append(Signal("list", "mailing-list", 3.0, "has a Mailing-List header"))
    software = " ".join(f.header(h) for h in ("x-mailman-version", "list-id", "x-beenthere", "list-help",
                                                "x-ml-name", "sender", "x-loop", "mailing-list"))
    software_header = f.has("x-mailman-version") or f.has("x-beenthere") or f.has("x-ml-name")
    if software_header or (software and _LIST_SOFTWARE.search(software)):
        out.append(Signal("list", "list-software", 2.0, "distributed by discussion-list software"))
    return out


def _offer(f: MailFacts) -> list[Signal]:
    out: list[Signal] = []
    content = f"{f.subject} {f.text}"
    for pattern, weight, note in _OFFER:
        if pattern.search(content):
            out.append(Signal("offer", note.replace(" ", "-"), weight, note))
    prices = len(_PRICE.findall(content))
    if prices >= 2:
        out.append(Signal("offer", "prices", 1.0 if prices < 4 else 1.5, f"quotes {prices} prices"))
    if _SCHEMA_OFFER.search(f.html):
        out.append(Signal("offer", "schema-offer", 3.0, "carries schema.org offer/promotion markup"))
    if f.images >= 4 and len(f.text) < 300 * f.images:
        out.append(Signal("offer", "image-heavy", 1.0, f"image-heavy HTML ({f.images} images)"))
    if f.links >= 15:
        out.append(Signal("offer", "many-links", 0.5, f"{f.links} links"))
    subject = f.subject
    if subject.count("!") >= 2 or (len(subject) > 12 and sum(c.isupper() for c in subject) > 0.6 * len(subject)):
        out.append(Signal("offer", "shouting-subject", 1.0, "a shouting subject"))
    return out


def _transactional(f: MailFacts) -> list[Signal]:
    out: list[Signal] = []
    body = f.text[:3000]
    for pattern, note in _TRANSACTIONAL:
        if pattern.search(f.subject):
            out.append(Signal("transactional", "subject:" + note.replace(" ", "-"), 3.0, f"the subject is {note}"))
        elif pattern.search(body):
            out.append(Signal("transactional", "body:" + note.replace(" ", "-"), 1.0, f"the text is about {note}"))
    return out


def _personal(f: MailFacts) -> list[Signal]:
    out: list[Signal] = []
    if f.has("in-reply-to") or f.has("references"):
        out.append(Signal("personal", "reply", 2.0, "replies to an earlier message"))
    if re.match(r"(?i)^(re|aw|sv|fwd?|tr)\s*:", f.subject):
        out.append(Signal("personal", "reply-subject", 1.0, "a reply or forward subject"))
    if _PERSONAL_CLIENTS.search(f.header("x-mailer") + " " + f.header("user-agent")):
        out.append(Signal("personal", "mail-client", 0.5, "written in a personal mail client"))
    if not f.html and f.links <= 3 and not f.has("list-unsubscribe"):
        out.append(Signal("personal", "plain-text", 1.0, "plain text with few links"))
    return out


def _spam(f: MailFacts) -> list[Signal]:
    out: list[Signal] = []
    flag = f.header("x-spam-flag").lower() + " " + f.header("x-spam-status")[:4].lower()
    if "yes" in flag:
        out.append(Signal("spam", "spam-flag", 5.0, "a spam filter upstream flagged it"))
    content = f"{f.subject} {f.text[:5000]}"
    for pattern, weight, note in _SPAM:
        if pattern.search(content):
            out.append(Signal("spam", note.replace(" ", "-"), weight, note))
    if not f.message_id:
        out.append(Signal("spam", "no-message-id", 0.5, "no Message-ID"))
    if f.recipients == 0 or "undisclosed" in f.header("to").lower():
        out.append(Signal("spam", "hidden-recipients", 0.5, "no visible recipient"))
    if f.html_only and not f.has("list-unsubscribe"):
        out.append(Signal("spam", "html-only", 0.5, "HTML without a text part or unsubscribe header"))
    return out


def read_signals(f: MailFacts) -> list[Signal]:
    """Every signal the message carries."""
    return [*_list(f), *_bulk(f), *_offer(f), *_transactional(f), *_personal(f), *_spam(f)]


def tokens(f: MailFacts, signals: list[Signal]) -> list[str]:
    """Tokens for the learned model: signal names, sender domain, link domains, subject and body words."""
    out = [f"sig:{s.name}" for s in signals]
    if f.sender_domain:
        parts = f.sender_domain.split(".")
        out.append("from:" + ".".join(parts[-2:]))
    out += [f"link:{'.'.join(d.split('.')[-2:])}" for d in f.link_domains[:20]]
    out += ["subj:" + w for w in _WORD.findall(f.subject.lower())]
    out += _WORD.findall(f.text[:4000].lower())[:400]
    return out
