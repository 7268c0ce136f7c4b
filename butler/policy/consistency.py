"""Checks that need more than one field or more than one rule: empty rules, max below min, duplicate ids, and
rules that contradict each other (a vendor both banned and the only one allowed, a country both allowed and
denied, a required MyTerms agreement beyond the allowed data use). Each problem names the field it is about.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from butler.policy.agreements import AGREEMENT_DATA_USE
from butler.policy.expr import normalise_names
from butler.policy.rules import (
    BanRule,
    BudgetRule,
    CertificationRule,
    ContractLengthRule,
    DataUseRule,
    EnergyRule,
    MyTermsRule,
    OnlyVendorsRule,
    OriginRule,
    PolicyFile,
    Preference,
    PromotionsRule,
    Rule,
    UnsubscribeRule,
)

__all__ = ["BUILTIN_ATTRIBUTES", "Problem", "find_problems"]

# Attribute name → (min, max, prefer) defaults for preferences; None means the attribute is scored otherwise.
BUILTIN_ATTRIBUTES: dict[str, tuple[Decimal, Decimal, str] | None] = {
    "price": None,
    "data_use": None,
    "extras": None,
    "certifications": None,
    "term_months": (Decimal(0), Decimal(36), "lower"),
    "carbon": (Decimal(0), Decimal(500), "lower"),
    "renewable_share": (Decimal(0), Decimal(1), "higher"),
    "rating": (Decimal(0), Decimal(5), "higher"),
}


@dataclass(frozen=True)
class Problem:
    """One problem: which file (index into the files checked), the data path of the field, a message."""

    file: int
    path: tuple[str | int, ...]
    message: str


def _rule_problems(rule: Rule) -> list[tuple[tuple[str | int, ...], str]]:
    out: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(rule, BudgetRule) and rule.max_per_purchase is None and rule.max_per_month is None:
        out.append(((), "a budget rule needs max_per_purchase or max_per_month"))
    elif isinstance(rule, BanRule) and not (rule.vendors or rule.brands or rule.owners):
        out.append(((), "a ban rule needs at least one of vendors, brands or owners"))
    elif isinstance(rule, CertificationRule) and not (rule.any_of or rule.all_of):
        out.append(((), "a certifications rule needs any_of or all_of"))
    elif isinstance(rule, EnergyRule) and rule.max_carbon_g_per_kwh is None and rule.min_renewable_percent is None:
        out.append(((), "an energy rule needs max_carbon_g_per_kwh or min_renewable_percent"))
    elif isinstance(rule, ContractLengthRule):
        if rule.max_months is None and rule.min_months is None:
            out.append(((), "a contract-length rule needs max_months or min_months"))
        elif rule.max_months is not None and rule.min_months is not None and rule.max_months < rule.min_months:
            out.append((("max_months",), f"max_months ({rule.max_months}) is less than min_months "
                                         f"({rule.min_months}); no contract could pass"))
    elif isinstance(rule, OnlyVendorsRule) and not rule.vendors:
        out.append((("vendors",), "an only-vendors rule needs at least one vendor"))
    elif isinstance(rule, OriginRule):
        if not (rule.allow or rule.deny):
            out.append(((), "an origin rule needs allow or deny"))
        both = sorted({c.upper() for c in rule.allow} & {c.upper() for c in rule.deny})
        if both:
            out.append((("deny",), f"{', '.join(both)} is both allowed and denied"))
    elif isinstance(rule, PromotionsRule):
        if not (rule.block_categories or rule.require_matched_intent or rule.keep_senders):
            out.append(((), "a promotions rule needs block_categories, require_matched_intent or keep_senders"))
    elif isinstance(rule, UnsubscribeRule) and not (rule.methods or rule.never_from):
        out.append(((), "an unsubscribe rule needs methods or never_from"))
    return out


def _preference_problems(pref: Preference) -> list[tuple[tuple[str | int, ...], str]]:
    out: list[tuple[tuple[str | int, ...], str]] = []
    builtin = pref.attribute in BUILTIN_ATTRIBUTES
    if pref.attribute in {"extras", "certifications"} and not pref.wanted:
        out.append((("wanted",), f"a preference on {pref.attribute} needs a list of wanted ones"))
    if not builtin and (pref.min is None or pref.max is None or pref.prefer is None):
        known = ", ".join(BUILTIN_ATTRIBUTES)
        out.append((("attribute",), f"{pref.attribute!r} is not a built-in attribute ({known}); for your own "
                                    "attribute give min, max and prefer"))
    if pref.min is not None and pref.max is not None and pref.max <= pref.min:
        out.append((("max",), f"max ({pref.max}) must be greater than min ({pref.min})"))
    return out


def _overlap(a: Rule, b: Rule) -> bool:
    """Whether two rules can judge the same subject (rules with a `when` are assumed not to)."""
    if a.when is not None or b.when is not None:
        return False
    for left, right in (
        (a.applies_to.categories, b.applies_to.categories),
        (a.applies_to.vendors, b.applies_to.vendors),
        (a.applies_to.subjects, b.applies_to.subjects),
    ):
        if left and right and not (normalise_names(left) & normalise_names(right)):
            return False
    return True


def _pair_problem(a: Rule, b: Rule) -> tuple[str, str] | None:
    """A contradiction between two rules, reported on b: (field of b, message)."""
    if isinstance(a, BanRule) and isinstance(b, OnlyVendorsRule):
        both = sorted(normalise_names(a.vendors) & normalise_names(b.vendors))
        if both:
            return "vendors", f"vendor {both[0]!r} is both banned (rule {a.id!r}) and required here"
    if isinstance(a, OnlyVendorsRule) and isinstance(b, BanRule):
        both = sorted(normalise_names(a.vendors) & normalise_names(b.vendors))
        if both:
            return "vendors", f"vendor {both[0]!r} is both required (rule {a.id!r}) and banned here"
    if isinstance(a, OriginRule) and isinstance(b, OriginRule):
        both = sorted({c.upper() for c in a.allow} & {c.upper() for c in b.deny}) or sorted(
            {c.upper() for c in a.deny} & {c.upper() for c in b.allow}
        )
        if both:
            return "deny" if b.deny else "allow", f"country {both[0]} is allowed in one rule and denied in the " \
                f"other (rule {a.id!r})"
    if isinstance(a, ContractLengthRule) and isinstance(b, ContractLengthRule):
        if a.min_months is not None and b.max_months is not None and b.max_months < a.min_months:
            return "max_months", f"max_months ({b.max_months}) is less than min_months ({a.min_months}) of " \
                f"rule {a.id!r}; no contract could pass"
        if a.max_months is not None and b.min_months is not None and a.max_months < b.min_months:
            return "min_months", f"min_months ({b.min_months}) is more than max_months ({a.max_months}) of " \
                f"rule {a.id!r}; no contract could pass"
    for mt, du in ((a, b), (b, a)):
        if isinstance(mt, MyTermsRule) and isinstance(du, DataUseRule):
            uses = [AGREEMENT_DATA_USE.get(t) for t in mt.agreements]
            if all(u is not None and u.rank > du.max.rank for u in uses):
                field = "agreements" if b is mt else "max"
                return field, f"every agreement the myterms rule {mt.id!r} accepts allows more data use than " \
                    f"'{du.max}' (rule {du.id!r}); no agreement could pass"
    return None


def find_problems(files: Sequence[PolicyFile], limit: int | None = None) -> list[Problem]:
    """Every problem in a set of parsed files, in file order (contradictions after the single-rule problems).

    Contradictions are looked for only among rules that could contradict: rules are indexed by what they name
    (vendors, countries) or ordered by their bounds (months, data use), so checking grows with the number of rules
    and of contradictions found, not with the square of the number of rules. With `limit`, the search stops
    once that many problems are found (a file contradicting itself a million times is not worth more).
    """
    problems: list[Problem] = []
    seen_ids: dict[str, tuple[int, str]] = {}
    placed: list[tuple[int, int, Rule]] = []
    for f, policy in enumerate(files):
        entries: list[tuple[str, int, Any]] = [("rule", i, r) for i, r in enumerate(policy.rule)]
        entries += [("preference", i, p) for i, p in enumerate(policy.preference)]
        for table, i, item in entries:
            if item.id in seen_ids:
                other_file, other_table = seen_ids[item.id]
                where = "this file" if other_file == f else "another file"
                problems.append(Problem(f, (table, i, "id"), f"id {item.id!r} is already used by a "
                                                              f"{other_table} in {where}; ids must be unique"))
            else:
                seen_ids[item.id] = (f, table)
            found = _rule_problems(item) if table == "rule" else _preference_problems(item)
            problems += [Problem(f, (table, i, *sub), msg) for sub, msg in found]
        placed += [(f, i, r) for i, r in enumerate(policy.rule)]
    index = _Index()
    for n, (fb, ib, b) in enumerate(placed):
        if limit is not None and len(problems) >= limit:
            break
        for m in sorted(index.candidates(b)):
            a = placed[m][2]
            if _overlap(a, b) and (hit := _pair_problem(a, b)) is not None:
                problems.append(Problem(fb, ("rule", ib, hit[0]), hit[1]))
        index.add(n, b)
    return problems


class _Index:
    """The rules seen so far, by what could make a later rule contradict them."""

    def __init__(self) -> None:
        self.banned: dict[str, list[int]] = {}
        self.only: dict[str, list[int]] = {}
        self.allowed: dict[str, list[int]] = {}
        self.denied: dict[str, list[int]] = {}
        self.min_months: list[tuple[int, int]] = []  # (min_months, rule), sorted
        self.max_months: list[tuple[int, int]] = []  # (max_months, rule), sorted
        self.data_use: list[tuple[int, int]] = []  # (rank of the most data use allowed, rule), sorted
        self.myterms: list[tuple[int, int]] = []  # (rank of the least data use an agreement allows, rule), sorted

    def add(self, n: int, rule: Rule) -> None:
        def put(table: dict[str, list[int]], keys: Any) -> None:
            for key in keys:
                table.setdefault(key, []).append(n)

        if isinstance(rule, BanRule):
            put(self.banned, normalise_names(rule.vendors))
        elif isinstance(rule, OnlyVendorsRule):
            put(self.only, normalise_names(rule.vendors))
        elif isinstance(rule, OriginRule):
            put(self.allowed, {c.upper() for c in rule.allow})
            put(self.denied, {c.upper() for c in rule.deny})
        elif isinstance(rule, ContractLengthRule):
            if rule.min_months is not None:
                bisect.insort(self.min_months, (rule.min_months, n))
            if rule.max_months is not None:
                bisect.insort(self.max_months, (rule.max_months, n))
        elif isinstance(rule, DataUseRule):
            bisect.insort(self.data_use, (rule.max.rank, n))
        elif isinstance(rule, MyTermsRule):
            ranks = [u.rank for t in rule.agreements if (u := AGREEMENT_DATA_USE.get(t)) is not None]
            if ranks and len(ranks) == len(rule.agreements):
                bisect.insort(self.myterms, (min(ranks), n))

    def candidates(self, rule: Rule) -> set[int]:
        """Earlier rules that might contradict `rule` (each is still checked in full)."""
        found: set[int] = set()

        def take(table: dict[str, list[int]], keys: Any) -> None:
            for key in keys:
                found.update(table.get(key, ()))

        if isinstance(rule, OnlyVendorsRule):
            take(self.banned, normalise_names(rule.vendors))
        elif isinstance(rule, BanRule):
            take(self.only, normalise_names(rule.vendors))
        elif isinstance(rule, OriginRule):
            take(self.allowed, {c.upper() for c in rule.deny})
            take(self.denied, {c.upper() for c in rule.allow})
        elif isinstance(rule, ContractLengthRule):
            if rule.max_months is not None:  # an earlier minimum above this maximum
                found.update(n for _, n in self.min_months[bisect.bisect_right(self.min_months,
                                                                               (rule.max_months, _LAST)):])
            if rule.min_months is not None:  # an earlier maximum below this minimum
                found.update(n for _, n in self.max_months[:bisect.bisect_left(self.max_months,
                                                                              (rule.min_months, -1))])
        elif isinstance(rule, MyTermsRule):
            ranks = [u.rank for t in rule.agreements if (u := AGREEMENT_DATA_USE.get(t)) is not None]
            if ranks and len(ranks) == len(rule.agreements):  # earlier data-use limits below every agreement
                found.update(n for _, n in self.data_use[:bisect.bisect_left(self.data_use, (min(ranks), -1))])
        elif isinstance(rule, DataUseRule):  # earlier agreements that all allow more than this limit
            found.update(n for _, n in self.myterms[bisect.bisect_right(self.myterms, (rule.max.rank, _LAST)):])
        return found


_LAST = 1 << 62  # sorts after any rule number
