"""The IEEE 7012 (MyTerms) roster: the 16 agreements of DPV-P7012 and the negotiation statuses, as data.

Both tables ship as CSV next to this module (condensed from w3c/dpv `standards/p7012`); they are read once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from types import MappingProxyType

from butler.errors import UsageError

__all__ = [
    "DEFAULT_AGREEMENT",
    "P7012_NAMESPACE",
    "ROSTER",
    "STATUS_MEANINGS",
    "Agreement",
    "Status",
    "agreement",
    "is_agreement",
]

P7012_NAMESPACE = "https://w3id.org/dpv/standards/p7012#"
DEFAULT_AGREEMENT = "SD-BASE"


@dataclass(frozen=True)
class Agreement:
    """One roster entry: its id, a label, the broader agreements it refines, and what it means in plain words."""

    id: str
    label: str
    broader: tuple[str, ...]
    definition: str

    @property
    def iri(self) -> str:
        return P7012_NAMESPACE + self.id

    def describe(self) -> str:
        return f"{self.id}: {self.definition}"


class Status(StrEnum):
    """Negotiation statuses, named as in DPV-P7012."""

    REQUESTED = "AgreementNegotiationRequested"
    INITIATED = "AgreementNegotiationInitiated"
    PENDING_RESPONSE = "AgreementNegotiationPendingResponse"
    COUNTER_OFFER_MADE = "AgreementNegotiationCounterOfferMade"
    CONFIRMATION_REQUIRED = "AgreementNegotiationConfirmationRequired"
    CLARIFICATION_REQUIRED = "AgreementNegotiationClarificationRequired"
    PAUSED = "AgreementNegotiationPaused"
    EXPIRED = "AgreementNegotiationExpired"
    INVALID = "AgreementNegotiationInvalid"
    TERMINATED = "AgreementNegotiationTerminated"
    NEGOTIATION_REFUSED = "AgreementNegotiationRefused"
    UNKNOWN = "AgreementNegotiationUnknown"
    ACCEPTED = "AgreementAccepted"
    REFUSED = "AgreementRefused"

    @property
    def meaning(self) -> str:
        return STATUS_MEANINGS[self.value]


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("butler.terms").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _load_roster() -> dict[str, Agreement]:
    out: dict[str, Agreement] = {}
    for row in _rows("roster.csv"):
        broader = tuple(b for b in row["broader"].split(";") if b)
        out[row["id"]] = Agreement(row["id"], row["label"], broader, row["definition"])
    return out


ROSTER: MappingProxyType[str, Agreement] = MappingProxyType(_load_roster())
STATUS_MEANINGS: MappingProxyType[str, str] = MappingProxyType({r["id"]: r["meaning"] for r in _rows("statuses.csv")})


def is_agreement(term_id: str) -> bool:
    """Whether `term_id` names an agreement of the roster (exact spelling)."""
    return term_id in ROSTER


def agreement(term_id: str) -> Agreement:
    """The roster entry for `term_id`; UsageError naming the valid ids if there is none."""
    found = ROSTER.get(term_id)
    if found is None:
        raise UsageError(f"{term_id!r} is not a MyTerms agreement",
                         "Choose one of: " + ", ".join(ROSTER) + " (`butler terms show` explains each).")
    return found
