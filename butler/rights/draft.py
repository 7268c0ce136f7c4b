"""A new request: rendered, recorded as a signed draft, and queued on the desk for the person's approval."""

from __future__ import annotations

from dataclasses import dataclass

from butler import profile
from butler.rights import requests
from butler.rights.approvals import DataRequestItem, make_id, propose
from butler.rights.compose import identity, request_letter
from butler.rights.database import Database
from butler.rights.errors import RightsError
from butler.vault import Vault

__all__ = ["Drafted", "draft_request"]


@dataclass(frozen=True)
class Drafted:
    reference: str
    approval_id: str
    item: DataRequestItem


def draft_request(vault: Vault, database: Database, company_key: str, kind: str, *,
                  fields: tuple[str, ...] = ("name", "email"), language: str | None = None,
                  rectification: str = "") -> Drafted:
    """Draft a request of `kind` to a company (slug, domain or name) with the chosen profile fields."""
    if kind == "rectification" and not rectification.strip():
        raise RightsError("a rectification needs what to correct", "Say it with --change \"…\" (old → new).")
    company = database.company(company_key)
    me = profile.load(vault)
    given = identity(me, fields)
    if not given:
        raise RightsError("no identifying data to give: your profile has none of " + ", ".join(fields),
                          "Set it with `butler profile set --name … --email …`, or choose other fields.")
    missing = [f for f in fields if f not in given]
    reference = requests.new_reference()
    letter = request_letter(database, company, kind, reference, fields=given,
                            language=language or (me.locale if me else "en"), rectification=rectification)
    sender = "\n".join(v for k, v in given.items() if k in ("name", "address"))
    item = DataRequestItem(id=make_id(reference, "request"), reference=reference, company=company.slug,
                           addressee=company.name, letter="request", to=letter.to, subject=letter.subject,
                           body=letter.text, language=letter.language, recipient=letter.recipient, sender=sender,
                           reasons=[f"you asked for {kind} under the GDPR"]
                           + ([f"left out (not in your profile): {', '.join(missing)}"] if missing else [])
                           + ([f"{company.name} asks for: {', '.join(company.required)}"] if company.required
                              else []))
    requests.append(vault, reference, company.slug, "drafted", place="desk",
                    details={"letter": "request", "kind": kind, "language": letter.language, "to": letter.to,
                             "subject": letter.subject, "text": letter.text, "fields": sorted(given),
                             "summary": f"{kind} request drafted in {letter.language}"})
    propose(vault, item)
    return Drafted(reference, item.id, item)
