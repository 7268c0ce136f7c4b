"""The MyTerms handshake: the person proffers, the vendor accepts, offers one alternative, or refuses.

IEEE 7012 defines no wire protocol; butler's (docs/terms.md) is one request, `POST {vendor}/myterms/proffer`,
with the signed proffer record. Accepting a vendor's alternative is proffering that alternative in turn.
An alternative is accepted without asking only if the person's choices list it for that vendor or category AND
the policy engine allows `AgreementProposal(term_id, vendor_id)`; otherwise it waits in `approvals`.
Every step is a signed record (`butler.terms.records`); a broken exchange is recorded, never as agreed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import httpx

from butler.errors import UsageError
from butler.models import AgreementRecord
from butler.policy import AgreementProposal, PolicySet, Verdict, evaluate
from butler.terms.choices import Choice, load_choices
from butler.terms.errors import TermsError, VendorAnswerInvalid
from butler.terms.pending import CounterOfferItem, add_item
from butler.terms.records import append_record, pseudonym_secret, public_key_b64, signing_key
from butler.terms.roster import ROSTER, Status, agreement
from butler.terms.web import client_or_new, fetch, normalise_url, vendor_key
from butler.terms.wire import ProfferAnswer, ProfferRequest, parse_vendor_json
from butler.vault import Vault

__all__ = ["PROFFER_PATH", "Outcome", "accept_alternative", "judge_alternative", "person_pseudonym", "proffer",
           "refuse_alternative"]

PROFFER_PATH = "/myterms/proffer"


@dataclass(frozen=True)
class Outcome:
    """Where a negotiation stands: the status, the agreement concerned, and the records it produced."""

    vendor: str
    status: Status
    term_id: str
    records: tuple[AgreementRecord, ...]
    approval_id: str | None = None
    reasons: tuple[str, ...] = ()
    refused_by: str | None = None  # "vendor" or "person" when the status is AgreementRefused

    def describe(self) -> str:
        who = "You" if self.refused_by == "person" else self.vendor
        text = {
            Status.ACCEPTED: f"{self.vendor} and you agreed on {self.term_id}.",
            Status.REFUSED: f"{who} refused {self.term_id}; the refusal is kept as evidence.",
            Status.CONFIRMATION_REQUIRED: (f"{self.vendor} offers {self.term_id} instead; it waits for you "
                                           f"(`butler terms approve {self.approval_id}` or `reject`)."),
        }.get(self.status, f"{self.vendor}: {self.status.meaning}.")
        return "\n".join([text, *(f"  - {r}" for r in self.reasons)])


def person_pseudonym(vault: Vault, vendor: str) -> str:
    """A stable id for the person towards one vendor, different for every vendor (so they cannot be linked)."""
    digest = hmac.new(pseudonym_secret(vault), vendor_key(vendor).encode(), hashlib.sha256)
    return "p-" + digest.hexdigest()[:32]


def judge_alternative(choice: Choice, term_id: str, vendor: str, policies: PolicySet | None) -> tuple[str, ...]:
    """Why an alternative cannot be accepted without the person; empty when it can."""
    reasons: list[str] = []
    if term_id not in choice.accept:
        listed = ", ".join(choice.accept) or "none"
        reasons.append(f"{term_id} is not among the alternatives you accept for this vendor ({listed}).")
    decision = evaluate(AgreementProposal(term_id=term_id, vendor_id=vendor), policies or PolicySet())
    if decision.verdict is not Verdict.ALLOW:
        reasons += [f"Policy {r.rule_id} ({r.location}) says {r.verdict}: {r.text}" for r in decision.fired]
    return tuple(reasons)


async def _exchange(vault: Vault, http: httpx.AsyncClient, base: str, vendor: str, term_id: str,
                    records: list[AgreementRecord]) -> ProfferAnswer:
    """Record a proffer of `term_id`, send it, and return the vendor's well-formed answer."""
    record = append_record(vault, vendor, term_id=term_id, status=Status.REQUESTED, place=base,
                           details={"direction": "sent"})
    records.append(record)
    url = base + PROFFER_PATH
    body = ProfferRequest(agreement=term_id, person=person_pseudonym(vault, vendor),
                          record=record.model_dump(mode="json"),
                          public_key=public_key_b64(signing_key(vault).public_key()))
    try:
        answer = await fetch(http, "POST", url, json=body.model_dump(mode="json"))
        if answer.status != 200:
            raise VendorAnswerInvalid(f"{url} answered HTTP {answer.status}")
        parsed = parse_vendor_json(ProfferAnswer, answer.body, url)
        if parsed.agreement is not None and parsed.agreement != term_id:
            raise VendorAnswerInvalid(f"{url} answered about {parsed.agreement}, not the proffered {term_id}")
    except (TermsError, UsageError) as exc:  # UsageError: the vendor's address is one butler does not reach
        status = Status.INVALID if isinstance(exc, VendorAnswerInvalid) else Status.UNKNOWN
        records.append(append_record(vault, vendor, term_id=term_id, status=status, place=base,
                                     details={"error": exc.message}))
        raise
    return parsed


async def _settle(vault: Vault, http: httpx.AsyncClient, base: str, vendor: str, term_id: str,
                  records: list[AgreementRecord], *, by: str) -> Outcome:
    """Proffer an alternative the vendor itself offered; the vendor must now accept or refuse it."""
    answer = await _exchange(vault, http, base, vendor, term_id, records)
    if answer.status == Status.COUNTER_OFFER_MADE:
        message = f"{vendor} countered its own alternative {term_id} with {answer.alternative}"
        records.append(append_record(vault, vendor, term_id=term_id, status=Status.INVALID, place=base,
                                     details={"error": message}))
        raise VendorAnswerInvalid(message)
    return _final(vault, base, vendor, term_id, answer, records, by=by)


def _final(vault: Vault, base: str, vendor: str, term_id: str, answer: ProfferAnswer,
           records: list[AgreementRecord], *, by: str) -> Outcome:
    if answer.status == Status.ACCEPTED:
        records.append(append_record(vault, vendor, term_id=term_id, status=Status.ACCEPTED, place=base,
                                     details={"accepted_by": by}))
        return Outcome(vendor, Status.ACCEPTED, term_id, tuple(records))
    reason = answer.reason or "no reason given"
    records.append(append_record(vault, vendor, term_id=term_id, status=Status.REFUSED, place=base,
                                 details={"refused_by": "vendor", "reason": reason}))
    return Outcome(vendor, Status.REFUSED, term_id, tuple(records), reasons=(f"The vendor said: {reason}",),
                   refused_by="vendor")


async def proffer(vault: Vault, url: str, *, policies: PolicySet | None = None, term_id: str | None = None,
                  category: str | None = None, client: httpx.AsyncClient | None = None) -> Outcome:
    """Proffer the person's agreement to the vendor at `url` and follow the answer as far as butler may.

    `term_id` overrides the person's choice for this vendor/category. Raises VendorUnavailable or
    VendorAnswerInvalid (after recording the failed exchange) when the vendor breaks the protocol.
    """
    base = normalise_url(url)
    vendor = vendor_key(base)
    choice = load_choices(vault).for_vendor(vendor, category)
    term = agreement(term_id or choice.proffer).id
    records: list[AgreementRecord] = []
    async with client_or_new(client) as http:
        answer = await _exchange(vault, http, base, vendor, term, records)
        if answer.status != Status.COUNTER_OFFER_MADE:
            return _final(vault, base, vendor, term, answer, records, by="vendor")
        alternative = answer.alternative or ""
        if alternative not in ROSTER or alternative == term:
            why = "is not in the MyTerms roster" if alternative not in ROSTER else "is what was proffered"
            message = f"{vendor} offered {alternative!r} as an alternative, which {why}"
            records.append(append_record(vault, vendor, term_id=term, status=Status.INVALID, place=base,
                                         details={"error": message, "alternative": alternative}))
            raise VendorAnswerInvalid(message)
        records.append(append_record(vault, vendor, term_id=alternative, status=Status.COUNTER_OFFER_MADE,
                                     place=base, details={"proffered": term, "direction": "received"}))
        reasons = judge_alternative(choice, alternative, vendor, policies)
        if not reasons:
            return await _settle(vault, http, base, vendor, alternative, records, by="butler, as you chose")
        item = add_item(vault, vendor=vendor, place=base, term_id=alternative, proffered=term, reasons=reasons)
        records.append(append_record(vault, vendor, term_id=alternative, status=Status.CONFIRMATION_REQUIRED,
                                     place=base, details={"approval": item.id}))
        return Outcome(vendor, Status.CONFIRMATION_REQUIRED, alternative, tuple(records), item.id, reasons)


async def accept_alternative(vault: Vault, item: CounterOfferItem, *,
                             client: httpx.AsyncClient | None = None) -> Outcome:
    """Proffer the alternative a waiting item holds: the vendor should accept it. The desk keeps the item's state."""
    records: list[AgreementRecord] = []
    async with client_or_new(client) as http:
        return await _settle(vault, http, item.place, item.vendor, item.term_id, records, by="you")


def refuse_alternative(vault: Vault, item: CounterOfferItem, reason: str = "declined by the person") -> Outcome:
    """Keep the person's refusal of a waiting alternative as a signed record. The vendor is not contacted."""
    record = append_record(vault, item.vendor, term_id=item.term_id, status=Status.REFUSED, place=item.place,
                           details={"refused_by": "person", "reason": reason, "approval": item.id})
    return Outcome(item.vendor, Status.REFUSED, item.term_id, (record,), item.id, (reason,), refused_by="person")
