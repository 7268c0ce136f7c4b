"""Who owns each vault collection, what its records look like, and which of them hold secrets.

Every collection butler writes is declared once, by the module that owns it, as a `Collection`: its name, its
owner, its model and id scheme, and its secrets (the whole collection, some record ids, or some fields). A field
is secret when its model says so: typed `SecretStr`, or declared `Field(json_schema_extra=SECRET)`.
`butler.wiring.catalog()` gathers them. Every view of records (the TUI's vault screen, logs, diagnostics) asks
the catalog what it may show: no screen keeps its own list of secret names, and a collection nobody declares is
shown as secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import BaseModel, SecretBytes, SecretStr

__all__ = ["HIDDEN", "SECRET", "Catalog", "Collection", "secret_fields_of"]

HIDDEN = "(secret: not shown)"
SECRET: dict[str, Any] = {"secret": True}  # a model field's flag: `Field(json_schema_extra=SECRET)`


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _is_secret_type(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(_is_secret_type(arg) for arg in get_args(annotation))


def secret_fields_of(model: type[BaseModel], _seen: frozenset[type[BaseModel]] = frozenset()) -> frozenset[str]:
    """The names (as stored) of the fields `model` flags secret, in it and in the models it holds."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if (isinstance(extra, dict) and extra.get("secret") is True) or _is_secret_type(info.annotation):
            names.add(info.alias or name)
        for inner in _models_in(info.annotation):
            if inner not in _seen:
                names |= secret_fields_of(inner, _seen | {model})
    return frozenset(names)


@dataclass(frozen=True)
class Collection:
    """One vault collection as its owner declares it."""

    name: str
    owner: str
    about: str
    model: type[BaseModel] | None = None
    id_scheme: str = ""
    secret: bool = False  # every record holds a secret
    secret_ids: frozenset[str] = field(default_factory=frozenset)  # these records hold a secret
    secret_fields: frozenset[str] = field(default_factory=frozenset)  # these fields, in any record, are secret

    def __post_init__(self) -> None:
        if self.model is not None:  # what the model flags is secret too
            object.__setattr__(self, "secret_fields", self.secret_fields | secret_fields_of(self.model))

    def holds_secret(self, record_id: str) -> bool:
        return self.secret or record_id in self.secret_ids

    def view(self, record_id: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
        """`data` with secret fields hidden, or None when the whole record is a secret."""
        if self.holds_secret(record_id):
            return None
        shown: dict[str, Any] = _hide(dict(data), self.secret_fields)
        return shown


def _hide(value: Any, fields: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: HIDDEN if k in fields else _hide(v, fields) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v, fields) for v in value]
    return value


class Catalog:
    """Every declared collection; the one place views ask what they may show."""

    def __init__(self, collections: Iterable[Collection]) -> None:
        self.collections: dict[str, Collection] = {}
        for collection in collections:
            if collection.name in self.collections:
                raise ValueError(f"collection {collection.name!r} is declared twice "
                                 f"({self.collections[collection.name].owner} and {collection.owner})")
            self.collections[collection.name] = collection

    def get(self, name: str) -> Collection | None:
        return self.collections.get(name)

    def holds_secret(self, name: str, record_id: str) -> bool:
        """True for a secret record, and for any record of a collection nobody declares."""
        collection = self.collections.get(name)
        return collection is None or collection.holds_secret(record_id)

    def view(self, name: str, record_id: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
        """What a person may be shown of a record: None when it is (or may be) a secret."""
        collection = self.collections.get(name)
        return None if collection is None else collection.view(record_id, data)
