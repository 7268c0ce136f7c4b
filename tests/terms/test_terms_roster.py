from __future__ import annotations

import csv
import pkgutil
from pathlib import Path

import pytest

import butler.terms
from butler.errors import UsageError
from butler.policy.agreements import MYTERMS_AGREEMENTS
from butler.terms import ROSTER, STATUS_MEANINGS, Status, agreement, is_agreement

SPEC = Path("/work/shared/specs/myterms")
PACKAGE = Path(butler.terms.__file__).parent


def test_roster_has_the_sixteen_agreements_with_definitions() -> None:
    assert len(ROSTER) == 16
    assert list(ROSTER)[:2] == ["SD-BASE", "SD-BASE-DP"]
    assert all(a.definition and a.label for a in ROSTER.values())
    assert agreement("SD-BASE-A-DP").broader == ("SD-BASE-A", "SD-BASE-DP")
    assert agreement("SD-BASE").broader == ()
    assert agreement("PDC-AI").iri == "https://w3id.org/dpv/standards/p7012#PDC-AI"
    for entry in ROSTER.values():
        assert all(b in ROSTER for b in entry.broader)


def test_roster_matches_the_ids_policies_accept() -> None:
    assert set(ROSTER) == MYTERMS_AGREEMENTS


def test_statuses_use_dpv_names() -> None:
    assert len(Status) == 14 == len(STATUS_MEANINGS)
    assert Status.ACCEPTED == "AgreementAccepted"
    assert Status.REFUSED == "AgreementRefused"
    assert Status.COUNTER_OFFER_MADE.value == "AgreementNegotiationCounterOfferMade"
    assert "human" in Status.CONFIRMATION_REQUIRED.meaning
    assert {s.value for s in Status} == set(STATUS_MEANINGS)


def test_unknown_agreement_names_the_valid_ones() -> None:
    assert not is_agreement("sd-base")
    with pytest.raises(UsageError) as caught:
        agreement("SD-EVERYTHING")
    assert "SD-EVERYTHING" in caught.value.message
    assert "SD-BASE" in caught.value.hint


@pytest.mark.parametrize("name", ["roster.csv", "statuses.csv"])
def test_package_data_is_the_shared_spec(name: str) -> None:
    if (SPEC / name).exists():  # the shared spec directory lives outside the repository
        assert (PACKAGE / name).read_text(encoding="utf-8") == (SPEC / name).read_text(encoding="utf-8")
    with open(PACKAGE / name, encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) in (14, 16)


def test_public_api_is_declared() -> None:
    # identifiers only: pytest's assertion rewriting adds "@py_builtins" to modules it rewrites
    public = {name for name in dir(butler.terms) if name.isidentifier() and not name.startswith("_")}
    modules = {info.name for info in pkgutil.iter_modules(butler.terms.__path__)} | {"annotations"}
    assert set(butler.terms.__all__) == public - modules
    for name in butler.terms.__all__:
        assert getattr(butler.terms, name) is not None
