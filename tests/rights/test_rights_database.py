"""The company database: the shipped snapshot, `butler rights update` (checked, atomic), domains and matching."""

from __future__ import annotations

import gzip
import importlib.resources
import json
from pathlib import Path

import pytest

from butler.rights import database, snapshot
from butler.rights.database import Database, registrable
from butler.rights.errors import CompanyNotFound, DatabaseInvalid
from butler.rights.matching import NameIndex, match

SHIPPED = importlib.resources.files("butler.rights").joinpath("data", "datenanfragen.json.gz")
SHARED_EXPORT = Path(__file__).resolve().parents[3] / "shared" / "data" / "datenanfragen"


def _export(tmp_path: Path) -> Path:
    """The upstream export folder the snapshot was built from, else one written back from the snapshot."""
    if SHARED_EXPORT.is_dir():
        return SHARED_EXPORT
    document = snapshot.read(SHIPPED.read_bytes())
    root = tmp_path / "export"
    for folder, records in (("companies", document["companies"]),
                            ("supervisory-authorities", document["authorities"])):
        (root / folder).mkdir(parents=True)
        for record in records:
            (root / folder / f"{record['slug']}.json").write_text(json.dumps(record), encoding="utf-8")
    for language, texts in document["templates"].items():
        (root / "templates" / language).mkdir(parents=True)
        for name, text in texts.items():
            (root / "templates" / language / f"{name}.txt").write_text(text, encoding="utf-8")
    return root


def test_the_shipped_snapshot_holds_the_whole_database_and_names_its_source(db: Database) -> None:
    assert len(db.companies) > 3000 and len(db.authorities) > 50
    assert {"en", "de", "fr"} <= set(db.templates) and "CC0" in db.source
    assert db.company("skillshare").email == "skillshare@gdpr-rep.com"
    assert db.company("https://www.skillshare.com/ss/privacy").slug == "skillshare"  # by its web domain
    with pytest.raises(CompanyNotFound):
        db.company("no-such-company.example")
    assert db.authority_for("FR").slug == "frcnil"  # type: ignore[union-attr]
    assert db.authority_for("xx") is None


def test_registrable_domains() -> None:
    assert registrable("mail.shop.example.co.uk") == "example.co.uk"
    assert registrable("www.Skillshare.com.") == "skillshare.com"
    assert registrable("news.mail.amazon.de") == "amazon.de"


def test_matching_by_web_domain_by_e_mail_domain_by_runs_and_not_at_all(db: Database) -> None:
    index = NameIndex(db)
    by_web = match(db, index, names=[], domains=["mail.skillshare.com"])
    assert by_web is not None and (by_web.slug, by_web.by, by_web.quality) == ("skillshare", "web domain",
                                                                                "certain")
    by_mail = match(db, index, names=[], domains=["lotto-niedersachsen.de"])  # its privacy address's domain
    assert by_mail is not None and (by_mail.slug, by_mail.by) == ("lotto-de", "e-mail domain")
    elsewhere = match(db, index, names=[], domains=["skillshare.de"])  # the brand under another country's domain
    assert elsewhere is not None and (elsewhere.slug, elsewhere.quality) == ("skillshare", "possible")
    runs = next(c for c in db.companies.values() if c.runs and len(index.runs.get(c.runs[0].lower(), [])) <= 1
                and c.runs[0].isalpha() and len(c.runs[0]) > 5)
    by_runs = match(db, index, names=[runs.runs[0]], domains=["unrelated-sender.example"])
    assert by_runs is not None and by_runs.slug == runs.slug and by_runs.quality == "likely"
    assert match(db, index, names=["Nobody In Particular"], domains=["nobody.example"]) is None


def test_update_from_an_export_folder_and_from_a_snapshot_file_replaces_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    updated = database.update(_export(tmp_path), home)
    assert len(updated.companies) > 3000
    target = database.home_snapshot(home)
    assert target.stat().st_mode & 0o777 == 0o600
    document = snapshot.read(target.read_bytes())
    document["companies"] = document["companies"][:500]
    smaller = tmp_path / "smaller.json.gz"
    smaller.write_bytes(snapshot.write_bytes(document))
    assert len(database.update(smaller, home).companies) == 500
    assert len(database.load(home).companies) == 500  # read from the home from now on


@pytest.mark.parametrize("content", [
    b"not gzip and not json",
    gzip.compress(b"{\"format\": \"something-else\"}"),
    json.dumps({"format": snapshot.FORMAT, "companies": [], "authorities": [], "templates": {}}).encode(),
], ids=["garbage", "another-format", "empty"])
def test_a_bad_update_is_refused_and_the_current_database_kept(tmp_path: Path, content: bytes) -> None:
    home = tmp_path / "home"
    good = tmp_path / "good.json.gz"
    good.write_bytes(SHIPPED.read_bytes())
    database.update(good, home)
    before = database.home_snapshot(home).read_bytes()
    bad = tmp_path / "bad"
    bad.write_bytes(content)
    with pytest.raises(DatabaseInvalid):
        database.update(bad, home)
    assert database.home_snapshot(home).read_bytes() == before


def test_a_snapshot_without_english_templates_or_with_a_record_missing_its_name_is_refused() -> None:
    document = snapshot.read(SHIPPED.read_bytes())
    del document["templates"]["en"]["admonition"]
    with pytest.raises(DatabaseInvalid, match="admonition"):
        snapshot.check(document)
    document = snapshot.read(SHIPPED.read_bytes())
    del document["companies"][7]["name"]
    with pytest.raises(DatabaseInvalid, match="no slug or no name"):
        snapshot.check(document)
