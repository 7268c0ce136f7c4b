"""Asks for money or action in bulk mail: donations, petitions, surveys, event sign-ups, membership drives.

Gmail files these under Promotions beside sales, and so does butler: they are `ask` signals, which count as
selling does. Besides the wording (`phrases.ASK`, several languages), two cues hold in any language: links to the
platforms such asks go through (donation, petition, survey and event services), and link paths that name the
ask (`/donate`, `/petition`, `/survey`, `/register`, …). A lone donate link or word is weak on purpose: many
newsletters carry one in their header.
"""

from __future__ import annotations

import re

from butler.mail.evidence import Signal, phrase_signals
from butler.mail.message import MailFacts
from butler.mail.phrases import ASK

__all__ = ["ask_signals", "link_asks"]

# services that exist to take donations, collect signatures, run surveys or register people for events
ASK_HOSTS = (
    "actblue.com", "winred.com", "anedot.com", "ngpvan.com", "everyaction.com", "actionnetwork.org",
    "salsalabs.", "blackbaud.", "classy.org", "donorbox.org", "givebutter.com", "gofundme.com", "justgiving.com",
    "betterplace.org", "helloasso.com", "e-activist.com", "engagingnetworks.", "nationbuilder.com", "change.org",
    "avaaz.org", "campact.de", "openpetition.", "surveymonkey.", "typeform.com", "qualtrics.com", "alchemer.com",
    "surveygizmo.", "forms.gle", "docs.google.com/forms", "eventbrite.", "gotowebinar.com", "on24.com",
    "bigmarker.com", "livestorm.co", "crowdcast.io", "cvent.com", "splashthat.com", "zoom.us/webinar",
    "zoom.us/meeting/register", "webex.com", "meetup.com", "lu.ma", "patreon.com", "kickstarter.com",
    "indiegogo.com",
)
# a path segment that names the ask, in the languages the phrases cover (URLs are rarely translated further)
ASK_PATHS = frozenset({
    "donate", "donation", "donations", "give", "giving", "contribute", "petition", "petitions", "survey", "surveys",
    "poll", "register", "registration", "rsvp", "webinar", "webinars", "seminar", "membership", "join", "spenden",
    "spende", "don", "faire-un-don", "donar", "dona", "doacao", "umfrage", "sondage", "encuesta", "sondaggio",
    "anmeldung", "inscription", "inscripcion", "iscrizione", "mitglied-werden", "adhesion", "adherer",
})
_ASK_PATH = re.compile(r"/(" + "|".join(sorted(ASK_PATHS, key=len, reverse=True)) + r")(?:[/?#&=.]|$)", re.MULTILINE)


def link_asks(urls: list[str]) -> tuple[str | None, str | None]:
    """(an ask platform linked to, a link path naming an ask), each the first found in `urls`. One scan of the
    joined addresses, not one per link: marketing mail carries a hundred links."""
    joined = "\n".join(urls[:200]).lower()  # a host that is itself an ask word (give.example) counts as one
    host = next((h for h in ASK_HOSTS if h in joined), None)
    path = _ASK_PATH.search(joined)
    return host, path.group(1) if path else None


def ask_signals(f: MailFacts, phrase_hits: dict[str, str]) -> list[Signal]:
    """The ask signals a message carries: the wording, and the links (a platform, a path naming the ask)."""
    out = phrase_signals("ask", ASK, phrase_hits)
    if "://" not in f.html and "://" not in f.text:
        return out
    host, path = link_asks(f.urls)
    if host:
        out.append(Signal("ask", "ask-platform", 1.5, f"links to a donation, petition, survey or event service "
                          f"({host.strip('./')})"))
    elif path:
        out.append(Signal("ask", "ask-link", 1.0, f"a link whose address names an ask ({path!r})"))
    return out
