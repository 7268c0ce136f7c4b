"""The handshake against the example vendor, served by uvicorn on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from terms_kit import VendorHandle

from butler.policy import PolicySet, load_policies
from butler.terms import (
    ApprovalNotFound,
    Status,
    VendorAnswerInvalid,
    VendorUnavailable,
    approve,
    discover,
    export_records,
    pending_items,
    person_pseudonym,
    proffer,
    reject,
    set_choice,
    vendor_records,
    verify_export,
    verify_records,
)
from butler.terms.records import RECORDS_COLLECTION
from butler.vault import Vault

PRIVACY = """
[[rule]]
id = "only-light-terms"
kind = "myterms"
agreements = ["SD-BASE", "SD-BASE-DP", "SD-BASE-A", "SD-BASE-A-DP"]
applies_to = { subjects = ["agreement"] }
reason = "Only these agreements may be signed for me."
"""


@pytest.fixture
def policies(tmp_path: Path) -> PolicySet:
    path = tmp_path / "privacy.toml"
    path.write_text(PRIVACY, encoding="utf-8")
    return load_policies([path])


def statuses(vault: Vault, vendor: VendorHandle) -> list[str]:
    return [r.status for r in vendor_records(vault, vendor.key)]


def assert_all_requests_sent_gpc(vendor: VendorHandle) -> None:
    assert vendor.seen.requests
    assert all(headers.get("sec-gpc") == "1" for _, _, headers in vendor.seen.requests)


async def test_discovery_against_the_vendor(terms_vault: Vault, terms_vendor: VendorHandle) -> None:
    terms_vendor.behave(accepts=("SD-BASE", "SD-BASE-DP"), max_age=300)
    found = await discover(terms_vault, terms_vendor.url)
    assert found.vendor == terms_vendor.key
    assert found.myterms is not None and found.myterms.agreement_ids == ("SD-BASE", "SD-BASE-DP")
    assert found.gpc is not None and found.gpc.gpc and found.max_age == 300 and found.etag
    assert await discover(terms_vault, terms_vendor.url) == found  # cached: no second request
    assert len(terms_vendor.seen.requests) == 2
    again = await discover(terms_vault, terms_vendor.url, refresh=True)  # conditional: 304
    assert again.myterms == found.myterms and again.etag == found.etag
    assert terms_vendor.seen.requests[2][2]["if-none-match"] == found.etag
    terms_vendor.behave(publish_myterms=False, gpc=None)
    gone = await discover(terms_vault, terms_vendor.url, refresh=True)
    assert not gone.supports_myterms and gone.gpc is None
    assert_all_requests_sent_gpc(terms_vendor)
    assert [e.action for e in terms_vault.audit.entries()].count("terms.discover") == 3


async def test_proffer_accepted(terms_vault: Vault, terms_vendor: VendorHandle) -> None:
    outcome = await proffer(terms_vault, terms_vendor.url)
    assert outcome.status is Status.ACCEPTED and outcome.term_id == "SD-BASE"
    assert statuses(terms_vault, terms_vendor) == ["AgreementNegotiationRequested", "AgreementAccepted"]
    [sent] = terms_vendor.seen.proffers
    assert sent["agreement"] == "SD-BASE" and sent["protocol"] == "butler-myterms/1"
    assert sent["person"] == person_pseudonym(terms_vault, terms_vendor.url)
    assert sent["person"] != person_pseudonym(terms_vault, "other.example")
    assert terms_vendor.seen.agreements == {sent["person"]: "SD-BASE"}  # the vendor checked the signature
    records = vendor_records(terms_vault, terms_vendor.key)
    assert records[0].place == terms_vendor.url and records[1].counterparty == terms_vendor.key
    assert verify_records(terms_vault, terms_vendor.url).ok
    assert_all_requests_sent_gpc(terms_vendor)
    actions = [e.action for e in terms_vault.audit.entries()]
    assert "terms.proffer" in actions and "terms.accepted" in actions


async def test_counter_offer_accepted_when_chosen_and_allowed(terms_vault: Vault, terms_vendor: VendorHandle,
                                                              policies: PolicySet) -> None:
    terms_vendor.behave(accepts=("SD-BASE-A",), alternative="SD-BASE-A")
    set_choice(terms_vault, "SD-BASE", vendor=terms_vendor.url, accept=("SD-BASE-A",))
    outcome = await proffer(terms_vault, terms_vendor.url, policies=policies)
    assert outcome.status is Status.ACCEPTED and outcome.term_id == "SD-BASE-A"
    assert statuses(terms_vault, terms_vendor) == [
        "AgreementNegotiationRequested", "AgreementNegotiationCounterOfferMade",
        "AgreementNegotiationRequested", "AgreementAccepted",
    ]
    assert [p["agreement"] for p in terms_vendor.seen.proffers] == ["SD-BASE", "SD-BASE-A"]
    assert pending_items(terms_vault) == []
    assert verify_records(terms_vault, terms_vendor.key).ok
    assert_all_requests_sent_gpc(terms_vendor)


async def test_counter_offer_by_category(terms_vault: Vault, terms_vendor: VendorHandle) -> None:
    terms_vendor.behave(accepts=("SD-BASE-A",), alternative="SD-BASE-A")
    set_choice(terms_vault, "SD-BASE", category="Telecom", accept=("SD-BASE-A",))
    outcome = await proffer(terms_vault, terms_vendor.url, category="telecom")
    assert outcome.status is Status.ACCEPTED and outcome.term_id == "SD-BASE-A"


@pytest.mark.parametrize(("accepted", "alternative", "why"), [
    ((), "SD-BASE-A", "not among the alternatives you accept"),  # allowed by policy, not chosen
    (("SD-BASE-ATP",), "SD-BASE-ATP", "only-light-terms"),  # chosen, denied by policy
])
async def test_counter_offer_waits_for_the_person_then_approve(
        terms_vault: Vault, terms_vendor: VendorHandle, policies: PolicySet,
        accepted: tuple[str, ...], alternative: str, why: str) -> None:
    terms_vendor.behave(accepts=(alternative,), alternative=alternative)
    set_choice(terms_vault, "SD-BASE", vendor=terms_vendor.key, accept=accepted)
    outcome = await proffer(terms_vault, terms_vendor.url, policies=policies)
    assert outcome.status is Status.CONFIRMATION_REQUIRED and outcome.term_id == alternative
    assert any(why in r for r in outcome.reasons)
    [item] = pending_items(terms_vault)
    stored = terms_vault.get("approvals", item.id)
    assert stored is not None and stored.data["kind"] == "myterms-counter-offer"
    assert stored.data["vendor"] == terms_vendor.key and stored.data["term_id"] == alternative
    assert stored.data["reasons"]
    assert statuses(terms_vault, terms_vendor)[-1] == "AgreementNegotiationConfirmationRequired"
    assert len(terms_vendor.seen.proffers) == 1  # nothing accepted behind the person's back

    done = await approve(terms_vault, item.id)
    assert done.status is Status.ACCEPTED and done.term_id == alternative
    assert pending_items(terms_vault) == []
    assert statuses(terms_vault, terms_vendor)[-2:] == ["AgreementNegotiationRequested", "AgreementAccepted"]
    assert verify_records(terms_vault, terms_vendor.key).ok
    with pytest.raises(ApprovalNotFound):
        await approve(terms_vault, item.id)
    assert_all_requests_sent_gpc(terms_vendor)


async def test_counter_offer_rejected_by_the_person(terms_vault: Vault, terms_vendor: VendorHandle) -> None:
    terms_vendor.behave(accepts=("SD-BASE-ATP",), alternative="SD-BASE-ATP")
    outcome = await proffer(terms_vault, terms_vendor.url)
    assert outcome.approval_id is not None
    refused = reject(terms_vault, outcome.approval_id, "too much tracking")
    assert refused.status is Status.REFUSED and refused.describe().startswith("You refused SD-BASE-ATP")
    last = vendor_records(terms_vault, terms_vendor.key)[-1]
    assert last.status == "AgreementRefused" and last.details["refused_by"] == "person"
    assert pending_items(terms_vault) == []
    with pytest.raises(ApprovalNotFound):
        reject(terms_vault, outcome.approval_id)
    assert len(terms_vendor.seen.proffers) == 1
    assert verify_records(terms_vault, terms_vendor.key).ok


async def test_refusal_is_kept_as_evidence(terms_vault: Vault, terms_vendor: VendorHandle) -> None:
    terms_vendor.behave(accepts=(), refuse_reason="No thanks.")
    outcome = await proffer(terms_vault, terms_vendor.url)
    assert outcome.status is Status.REFUSED
    records = vendor_records(terms_vault, terms_vendor.key)
    assert [r.status for r in records] == ["AgreementNegotiationRequested", "AgreementRefused"]
    assert records[1].details == {"refused_by": "vendor", "reason": "No thanks."}
    assert records[1].signature
    assert verify_records(terms_vault, terms_vendor.key).ok
    assert_all_requests_sent_gpc(terms_vendor)


@pytest.mark.parametrize(("raw", "error", "fragment"), [
    ((200, b"{this is not json"), VendorAnswerInvalid, "valid JSON"),
    ((200, b'{"status": "AgreementProbablyFine"}'), VendorAnswerInvalid, "invalid ProfferAnswer"),
    ((200, b'{"status": "AgreementNegotiationCounterOfferMade", "alternative": "SD-SELL-ALL"}'),
     VendorAnswerInvalid, "not in the MyTerms roster"),
    ((200, b'{"status": "AgreementNegotiationCounterOfferMade", "alternative": "SD-BASE"}'),
     VendorAnswerInvalid, "is what was proffered"),
    ((200, b'{"status": "AgreementAccepted", "agreement": "SD-BASE-ATP"}'), VendorAnswerInvalid, "not the proffered"),
    ((200, b'{"status": "AgreementAccepted", "pad": "' + b"x" * 1_100_000 + b'"}'), VendorAnswerInvalid,
     "more than"),
    ((500, b'{"status": "AgreementAccepted"}'), VendorUnavailable, "HTTP 500"),
    ((403, b'{"status": "AgreementAccepted"}'), VendorAnswerInvalid, "HTTP 403"),
])
async def test_hostile_vendor_answers(terms_vault: Vault, terms_vendor: VendorHandle, raw: tuple[int, bytes],
                                      error: type[Exception], fragment: str) -> None:
    terms_vendor.behave(raw_proffer=raw)
    with pytest.raises(error) as caught:
        await proffer(terms_vault, terms_vendor.url)
    assert fragment in str(caught.value)
    got = statuses(terms_vault, terms_vendor)
    assert "AgreementAccepted" not in got
    assert got[0] == "AgreementNegotiationRequested"
    assert got[-1] in ("AgreementNegotiationInvalid", "AgreementNegotiationUnknown")
    assert pending_items(terms_vault) == []
    assert verify_records(terms_vault, terms_vendor.key).ok


async def test_unreachable_vendor(terms_vault: Vault) -> None:
    with pytest.raises(VendorUnavailable):
        await proffer(terms_vault, "http://127.0.0.1:9")
    assert [r.status for r in vendor_records(terms_vault, "127.0.0.1:9")] == [
        "AgreementNegotiationRequested", "AgreementNegotiationUnknown"]


async def test_tampering_with_a_stored_record_is_detected(terms_vault: Vault, terms_vendor: VendorHandle) -> None:
    terms_vendor.behave(accepts=())
    await proffer(terms_vault, terms_vendor.url)
    record_id = f"{terms_vendor.key}#00000001"
    stored = terms_vault.get(RECORDS_COLLECTION, record_id)
    assert stored is not None and stored.data["status"] == "AgreementRefused"
    terms_vault.put(RECORDS_COLLECTION, record_id, {**stored.data, "status": "AgreementAccepted"})
    report = verify_records(terms_vault, terms_vendor.key)
    assert not report.ok and "record 1" in report.problems[0] and "altered" in report.problems[0]
    with pytest.raises(Exception, match="do not verify"):
        report.raise_for_problems()


async def test_removing_or_relinking_a_record_breaks_the_chain(terms_vault: Vault,
                                                                terms_vendor: VendorHandle) -> None:
    for _ in range(2):
        await proffer(terms_vault, terms_vendor.url)
    terms_vault.delete(RECORDS_COLLECTION, f"{terms_vendor.key}#00000001")
    problems = verify_records(terms_vault, terms_vendor.key).problems
    assert any("removed or reordered" in p for p in problems)
    assert any("chain broken" in p for p in problems)


async def test_export_verifies_with_the_public_key_alone(terms_vault: Vault, terms_vendor: VendorHandle,
                                                         tmp_path: Path) -> None:
    terms_vendor.behave(accepts=("SD-BASE-A",), alternative="SD-BASE-A")
    set_choice(terms_vault, "SD-BASE", vendor=terms_vendor.key, accept=("SD-BASE-A",))
    await proffer(terms_vault, terms_vendor.url)
    document = export_records(terms_vault, terms_vendor.url)
    text = json.dumps(document)
    terms_vault.close()  # nothing from the vault is needed any more

    loaded = json.loads(text)
    assert loaded["vendor"] == terms_vendor.key and len(loaded["records"]) == 4
    assert loaded["public_key"]["algorithm"] == "Ed25519"
    assert loaded["records"][0]["prev_hash"] == "0" * 64
    report = verify_export(loaded)
    assert report.ok and report.records == 4 and report.head == loaded["head"]

    forged = json.loads(text)
    forged["records"][1]["term_id"] = "SD-BASE-ATP-S3P"
    assert not verify_export(forged).ok
    truncated = json.loads(text)
    truncated["records"].pop()
    assert any("head hash" in p for p in verify_export(truncated).problems)
    assert not verify_export({"format": "something else"}).ok
