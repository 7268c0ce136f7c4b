"""Every vault collection is declared by its owner, and views show of a record only what its owner allows."""

from __future__ import annotations

import re
from pathlib import Path

from butler.records import HIDDEN, Catalog, Collection
from butler.wiring import catalog

ROOT = Path(__file__).parent.parent / "butler"
# throwaway vaults of the benchmark drivers, never a person's
BENCH_ONLY = {"bench", "contacts"}


def _names_written_in_code() -> set[str]:
    literal = re.compile(r"vault\.(?:put|get|update|records|ids|delete)\(\s*\"([A-Za-z_-]+)\"")
    constant = re.compile(r"^[A-Z_]*COLLECTION[A-Z_]* = \"([A-Za-z_-]+)\"|^META = \"([A-Za-z_-]+)\"", re.MULTILINE)
    names: set[str] = set()
    for path in ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(literal.findall(text))
        names |= {a or b for a, b in constant.findall(text)}
    return names


def test_every_collection_the_code_uses_is_declared_by_an_owner() -> None:
    declared = set(catalog().collections)
    used = _names_written_in_code()
    assert used - BENCH_ONLY <= declared, sorted(used - BENCH_ONLY - declared)
    for collection in catalog().collections.values():
        assert collection.owner.startswith("butler.") and collection.about


def test_secret_records_and_fields_are_hidden_and_undeclared_collections_too() -> None:
    the = catalog()
    assert the.view("mail", "smtp-password", {"value": "s3cret"}) is None
    assert the.view("mail", "imap-password", {"value": "s3cret"}) is None
    assert the.view("connector_secrets", "any", {"api_key": "k"}) is None
    assert the.view("keys", "myterms-pseudonym", {"secret": "x"}) is None
    assert the.view("somewhere-new", "r", {"a": 1}) is None and the.holds_secret("somewhere-new", "r")
    assert the.view("intents", "i-1", {"description": "a kettle"}) == {"description": "a kettle"}
    fields = Catalog([Collection("c", "butler.x", "test", secret_fields=frozenset({"token"}))])
    assert fields.view("c", "r", {"a": {"token": "t", "b": [{"token": "u"}]}}) == {
        "a": {"token": HIDDEN, "b": [{"token": HIDDEN}]}}
