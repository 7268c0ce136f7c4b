from __future__ import annotations

import json
from pathlib import Path

import pytest
from policy_helpers import PACKS

from butler.cli import main
from butler.policy import load_policies
from butler.policy.packs import install_packs, packs

OFFER = {
    "id": "o1",
    "vendor_id": "greenpower",
    "product": "Green tariff",
    "category": "electricity",
    "price": {"amount": "89.50", "currency": "EUR"},
    "period": "month",
    "term_months": 36,
    "auto_renew": True,
    "data_use": "service",
    "carbon_intensity_g_per_kwh": 120,
    "renewable_share": 0.9,
}


def test_example_packs_load() -> None:
    policies = load_policies(PACKS)
    assert {Path(f).name for f in policies.files} == {
        "ethical-purchasing.toml", "privacy.toml", "household-budget.toml", "energy.toml",
    }
    assert len(policies.rules) >= 15 and len(policies.preferences) >= 5


def test_check_example_packs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(PACKS)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 4 files, ")
    assert "rules" in out and "preferences" in out


def test_check_defaults_to_butler_home(butler_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check"]) == 3
    assert "no policy directory" in capsys.readouterr().err
    install_packs([pack.name for pack in packs()], butler_env / "policies")
    assert main(["policy", "check"]) == 0


def test_check_reports_every_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.toml").write_text("[[rule]]\nid = \n")
    (tmp_path / "b.toml").write_text('[[rule]]\nid = "x"\nkind = "nope"\nreason = "r"\n')
    (tmp_path / "c.toml").write_text('[pack]\nname = "fine"\n')
    assert main(["policy", "check", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert f"{tmp_path / 'a.toml'}:2:" in err
    assert f"{tmp_path / 'b.toml'}:3:1" in err and "unknown rule kind" in err
    assert "2 of 3" in err


def test_check_reports_contradictions_across_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.toml").write_text('[[rule]]\nid = "a"\nkind = "ban"\nvendors = ["x"]\nreason = "r"\n')
    (tmp_path / "b.toml").write_text('[[rule]]\nid = "b"\nkind = "only-vendors"\nvendors = ["x"]\nreason = "r"\n')
    assert main(["policy", "check", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert f"{tmp_path / 'b.toml'}:4:1" in err and "hint:" in err


def test_explain_prints_rules_that_fired(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    offer = tmp_path / "offer.json"
    offer.write_text(json.dumps(OFFER))
    assert main(["policy", "explain", str(offer), "--policies", str(PACKS), "--spent", "550 EUR"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Decision: DENY")
    for rule_id in ["clean-electricity", "energy-contract-length", "short-contracts", "monthly-limit"]:
        assert rule_id in out
    assert "energy.toml:" in out and "household-budget.toml:" in out
    assert "single-purchase-limit" in out  # listed among the rules that passed
    assert "Preference score:" in out


def test_explain_other_subjects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subject = tmp_path / "unsub.json"
    subject.write_text(json.dumps({"kind": "unsubscribe", "sender": "info@mybank.example", "method": "link"}))
    assert main(["policy", "explain", str(subject), "--policies", str(PACKS)]) == 0
    out = capsys.readouterr().out
    assert "Decision: DENY" in out and "keep-important-senders" in out
    agreement = tmp_path / "agreement.json"
    agreement.write_text(json.dumps({"kind": "agreement", "term_id": "SD-BASE", "vendor_id": "v"}))
    assert main(["policy", "explain", str(agreement), "--policies", str(PACKS)]) == 0
    assert "Decision: ALLOW" in capsys.readouterr().out


def test_explain_with_vendor_facts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    offer = tmp_path / "offer.json"
    offer.write_text(json.dumps({**OFFER, "category": "clothing", "vendor_id": "fastco", "rating": 5}))
    vendor = tmp_path / "vendor.json"
    vendor.write_text(json.dumps({"id": "fastco", "name": "FastCo", "owner": "Example Fast Fashion Holdings"}))
    assert main(["policy", "explain", str(offer), "--policies", str(PACKS), "--vendor", str(vendor)]) == 0
    out = capsys.readouterr().out
    assert "no-fast-fashion" in out and "owned by" in out


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", ["not valid JSON", ":1:2"]),
        ("[1]", ["JSON object"]),
        ('{"kind": "spaceship"}', ["unknown kind"]),
        ('{"id": "o"}', ["field"]),
    ],
)
def test_explain_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str,
                           words: list[str]) -> None:
    offer = tmp_path / "offer.json"
    offer.write_text(content)
    assert main(["policy", "explain", str(offer), "--policies", str(PACKS)]) == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err


def test_explain_bad_spent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    offer = tmp_path / "offer.json"
    offer.write_text(json.dumps(OFFER))
    assert main(["policy", "explain", str(offer), "--policies", str(PACKS), "--spent", "lots"]) == 2
    assert "--spent" in capsys.readouterr().err


def test_explain_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "explain", str(tmp_path / "none.json"), "--policies", str(PACKS)]) == 2


def test_export_odrl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "export-odrl", str(PACKS)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["@type"] == "Set" and "http://www.w3.org/ns/odrl.jsonld" in doc["@context"]
    uids = {entry["uid"] for entry in doc["permission"] + doc["prohibition"]}
    assert "urn:butler:policy:single-purchase-limit" in uids
    assert "urn:butler:policy:no-fast-fashion" in {e["uid"] for e in doc["prohibition"]}
    budget = next(e for e in doc["permission"] if e["uid"].endswith(":single-purchase-limit"))
    assert budget["constraint"][0] == {
        "leftOperand": "payAmount", "operator": "lteq",
        "rightOperand": {"@value": "250", "@type": "xsd:decimal"}, "unit": "urn:iso:std:iso:4217:EUR",
    }
    assert "fair-clothing" in doc["butler:notExported"]
    out = tmp_path / "odrl.json"
    assert main(["policy", "export-odrl", str(PACKS), "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == doc
