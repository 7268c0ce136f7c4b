"""The person's choices: the agreement they proffer and, per vendor or per category, alternatives they accept.

Stored in the vault (collection `terms`, record `choices`). A vendor's own entry wins over its category's,
which wins over the default; the default proffer is SD-BASE, the most protective agreement, with no
alternatives accepted.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from butler.errors import UsageError
from butler.records import Collection
from butler.terms.roster import DEFAULT_AGREEMENT, ROSTER, agreement
from butler.terms.web import vendor_key
from butler.vault import Vault

__all__ = ["CHOICES_COLLECTION", "RECORDS", "Choice", "TermsChoices", "describe_choices", "load_choices", "set_choice"]

CHOICES_COLLECTION = "terms"
CHOICES_ID = "choices"
RECORDS = Collection(CHOICES_COLLECTION, __name__, "the MyTerms agreements the person chose", id_scheme="choices")


def _known(term_id: str) -> str:
    agreement(term_id)  # raises UsageError naming the valid ids
    return term_id


class Choice(BaseModel):
    """What to proffer, and which alternatives a vendor may counter-offer without asking the person."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proffer: str = DEFAULT_AGREEMENT
    accept: tuple[str, ...] = ()

    @field_validator("proffer")
    @classmethod
    def _proffer_known(cls, value: str) -> str:
        return _known(value)

    @field_validator("accept")
    @classmethod
    def _accept_known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_known(v) for v in value))


class TermsChoices(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default: Choice = Field(default_factory=Choice)
    vendors: dict[str, Choice] = Field(default_factory=dict)
    categories: dict[str, Choice] = Field(default_factory=dict)

    def for_vendor(self, vendor: str, category: str | None = None) -> Choice:
        """The choice that applies to `vendor` (name or URL), in `category` if given."""
        found = self.vendors.get(vendor_key(vendor))
        if found is None and category:
            found = self.categories.get(category.strip().lower())
        return found or self.default


def load_choices(vault: Vault) -> TermsChoices:
    record = vault.get(CHOICES_COLLECTION, CHOICES_ID)
    return TermsChoices.model_validate(record.data) if record else TermsChoices()


def set_choice(vault: Vault, proffer: str, *, vendor: str | None = None, category: str | None = None,
               accept: tuple[str, ...] = ()) -> TermsChoices:
    """Set the default choice, or the one for a vendor or a category; returns all choices as stored."""
    if vendor and category:
        raise UsageError("give --vendor or --category, not both")
    choice = Choice(proffer=proffer, accept=accept)

    def change(data: dict[str, object] | None) -> dict[str, object]:
        current = TermsChoices.model_validate(data) if data else TermsChoices()
        if vendor:
            updated = current.model_copy(update={"vendors": {**current.vendors, vendor_key(vendor): choice}})
        elif category:
            key = category.strip().lower()
            if not key:
                raise UsageError("a category name cannot be empty")
            updated = current.model_copy(update={"categories": {**current.categories, key: choice}})
        else:
            updated = current.model_copy(update={"default": choice})
        return updated.model_dump(mode="json")

    stored = vault.update(CHOICES_COLLECTION, CHOICES_ID, change)
    scope = f"vendor {vendor_key(vendor)}" if vendor else f"category {category}" if category else "default"
    vault.audit.append("terms.choice", scope, {"proffer": proffer, "accept": list(choice.accept)})
    return TermsChoices.model_validate(stored.data)


def _lines(scope: str, choice: Choice) -> list[str]:
    lines = [f"{scope}: you proffer {choice.proffer}", f"    {ROSTER[choice.proffer].definition}"]
    if choice.accept:
        lines.append("    a vendor may answer with one of these and butler accepts it (if your policies allow):")
        lines += [f"      {t}: {ROSTER[t].definition}" for t in choice.accept]
    else:
        lines.append("    any alternative a vendor offers waits for you to approve or reject it")
    return lines


def describe_choices(choices: TermsChoices) -> str:
    """The choices in plain language, one block per scope."""
    lines = _lines("Everyone", choices.default)
    for category, choice in sorted(choices.categories.items()):
        lines += _lines(f"Category {category}", choice)
    for vendor, choice in sorted(choices.vendors.items()):
        lines += _lines(f"Vendor {vendor}", choice)
    return "\n".join(lines)
