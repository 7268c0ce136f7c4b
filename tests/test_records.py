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


OPS = {"put", "get", "update", "records", "ids", "delete"}
# the vault's own migrations move records of every collection; the benchmark drivers fill throwaway vaults
EXEMPT = ("butler.vault.", "butler.bench.")


def _touches() -> list[tuple[str, str, int]]:
    """(module, collection, line) for every vault call in butler/ whose collection is known when read."""
    import ast
    import importlib

    found = []
    for path in sorted(ROOT.rglob("*.py")):
        module_name = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = None
        # names imported anywhere in the file, functions too: `from butler.x import COLLECTION` inside a function
        imported = {alias.asname or alias.name: (node.module, alias.name) for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module for alias in node.names}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in OPS and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "vault" and node.args):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                name = arg.value
            elif isinstance(arg, ast.Name | ast.Attribute):
                module = module or importlib.import_module(module_name)
                value = vars(module).get(arg.id) if isinstance(arg, ast.Name) else getattr(
                    vars(module).get(arg.value.id) if isinstance(arg.value, ast.Name) else None, arg.attr, None)
                if value is None and isinstance(arg, ast.Name) and arg.id in imported:
                    source, attribute = imported[arg.id]
                    value = getattr(importlib.import_module(source), attribute, None)
                if not isinstance(value, str):
                    continue  # a collection chosen at run time (the vault browser): it asks the catalog
                name = value
            else:
                continue
            found.append((module_name, name, node.lineno))
    return found


def test_only_the_owner_of_a_collection_touches_it() -> None:
    owners = {name: c.owner for name, c in catalog().collections.items()}
    strangers = [f"{module}:{line} touches {name!r} (owned by {owners.get(name)})"
                 for module, name, line in _touches()
                 if not module.startswith(EXEMPT) and name not in BENCH_ONLY and owners.get(name) != module]
    assert strangers == []
