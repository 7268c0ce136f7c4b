"""The letters of a request: the request itself, the admonition and the complaint, in the company's request
language (or the person's), with only the identifying data the person chose."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from butler.models import Profile
from butler.rights.database import Authority, Company, Database
from butler.rights.errors import RightsError
from butler.rights.templates import ARTICLES, KINDS, identity_block, render, template_name

__all__ = ["IDENTITY_FIELDS", "Letter", "admonition", "complaint", "identity", "request_letter"]

IDENTITY_FIELDS = ("name", "email", "address")
_SUBJECTS = {
    "en": {"access": "Request for access to personal data (Art. 15 GDPR)",
           "rectification": "Request for rectification of personal data (Art. 16 GDPR)",
           "erasure": "Request for erasure of personal data (Art. 17 GDPR)",
           "objection": "Objection to processing of personal data (Art. 21 GDPR)",
           "admonition": "Reminder: my request under Art. {article} GDPR of {date}",
           "complaint": "Complaint under Art. 77 GDPR"},
    "de": {"access": "Anfrage auf Auskunft nach Art. 15 DSGVO",
           "rectification": "Antrag auf Berichtigung nach Art. 16 DSGVO",
           "erasure": "Antrag auf Löschung nach Art. 17 DSGVO",
           "objection": "Widerspruch nach Art. 21 DSGVO",
           "admonition": "Mahnung: meine Anfrage nach Art. {article} DSGVO vom {date}",
           "complaint": "Beschwerde nach Art. 77 DSGVO"},
    "fr": {"access": "Demande d'accès aux données personnelles (article 15 du RGPD)",
           "rectification": "Demande de rectification (article 16 du RGPD)",
           "erasure": "Demande d'effacement (article 17 du RGPD)",
           "objection": "Opposition au traitement (article 21 du RGPD)",
           "admonition": "Rappel : ma demande selon l'article {article} du RGPD du {date}",
           "complaint": "Plainte selon l'article 77 du RGPD"},
}


@dataclass(frozen=True)
class Letter:
    """A letter ready to send: to whom (an address, maybe none), subject with the reference, text, language."""

    to: str
    subject: str
    text: str
    language: str
    recipient: str  # the addressee's name and postal address, for a printed letter


def identity(profile: Profile | None, chosen: tuple[str, ...],
             extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The identifying data the person chose to give, from their profile (plus fields they typed)."""
    available: dict[str, str] = {}
    if profile is not None:
        available["name"] = profile.name
        available["email"] = profile.email or ""
        if profile.address is not None:
            available["address"] = "\n".join(str(v) for v in profile.address.model_dump().values() if v)
    available.update(extra or {})
    return {key: available[key] for key in chosen if available.get(key)}


def _subject(kind: str, language: str, reference: str, **values: str) -> str:
    subjects = _SUBJECTS.get(language, _SUBJECTS["en"])
    return f"{subjects[kind].format(**values)} [{reference}]"


def _sign(text: str, name: str) -> str:
    return f"{text}{name}\n" if name else text


def request_letter(database: Database, company: Company, kind: str, reference: str, *, fields: Mapping[str, str],
                   language: str = "en", rectification: str = "") -> Letter:
    """The request of `kind` to `company`, in its request language, else `language`, else English."""
    if kind not in KINDS:
        raise RightsError(f"unknown request kind {kind!r}", f"One of: {', '.join(KINDS)}.")
    found = database.template(template_name(kind, company.custom_templates), company.language or language)
    if found is None:
        found = database.template(f"{kind}-default", company.language or language)
    if found is None:
        raise RightsError(f"the company database has no {kind} template")
    lang, template = found
    text = render(template, flags={"has_fields": bool(fields), "runs": bool(company.runs), "erase_all": True,
                                   "data_portability": kind == "access"},
                  variables={"id_data": identity_block(fields, lang), "runs_list": ", ".join(company.runs),
                             "rectification_data": rectification or "[what to change]",
                             "erasure_data": "", "objection_reason": ""})
    to = "" if company.medium == "letter" else company.email  # the database says they answer letters only
    return Letter(to, _subject(kind, lang, reference), _sign(text, fields.get("name", "")), lang,
                  f"{company.name}\n{company.address}".strip())


def admonition(database: Database, company: Company, *, kind: str, reference: str, sent: dt.date,
               language: str, name: str) -> Letter:
    """The reminder after the deadline passed without an answer (the template's own example describes it)."""
    lang, template = database.template("admonition", language) or ("en", "")
    text = render(template, flags={}, variables={"request_date": sent.isoformat(), "request_article": ARTICLES[kind]})
    subject = _subject("admonition", lang, reference, article=ARTICLES[kind], date=sent.isoformat())
    return Letter(company.email, subject, _sign(text, name), lang, f"{company.name}\n{company.address}".strip())


def complaint(database: Database, company: Company, authority: Authority, *, kind: str, reference: str,
              sent: dt.date, admonished: dt.date | None, contact: str, name: str) -> Letter:
    """The complaint to the supervisory authority, in its complaint language (else English)."""
    lang, template = database.template("complaint", authority.language or "en") or ("en", "")
    steps = (f"{sent.isoformat()}: request ({reference}); "
             + (f"{admonished.isoformat()}: reminder with a two-week period; " if admonished else "")
             + "no answer since. Copies of the letters are attached.")
    text = render(template, flags={}, variables={"request_date": sent.isoformat(), "request_article": ARTICLES[kind],
                                                 "request_recipient_address": f"{company.name}\n{company.address}"},
                  prose=[steps, contact])
    return Letter(authority.email, _subject("complaint", lang, reference), _sign(text, name), lang,
                  f"{authority.name}\n{authority.address}".strip())
