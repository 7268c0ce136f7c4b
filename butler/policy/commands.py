"""`butler policy …`: check policy files, explain a decision, export hard constraints as ODRL."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from butler.errors import ConfigError, UsageError
from butler.models import Money, Offer, Vendor
from butler.paths import policies_dir
from butler.policy.context import EvalContext
from butler.policy.engine import evaluate
from butler.policy.loader import PolicyErrors, load_policies, policy_files
from butler.policy.odrl import to_odrl
from butler.policy.policyset import PolicySet
from butler.policy.rules import parse_money
from butler.policy.subjects import AgreementProposal, PromoEmail, Renewal, Subject, UnsubscribeAction
from butler.policy.utility import offer_utility

__all__ = ["add_parser"]

_SUBJECTS: dict[str, type[BaseModel]] = {
    "offer": Offer,
    "vendor": Vendor,
    "agreement": AgreementProposal,
    "promo-email": PromoEmail,
    "unsubscribe": UnsubscribeAction,
    "renewal": Renewal,
}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("policy", help="check and explain your purchase and privacy policies")
    sub = parser.add_subparsers(dest="policy_command", metavar="ACTION", required=True)

    check = sub.add_parser("check", help="validate policy files (default: $BUTLER_HOME/policies)")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="policy files or directories")
    check.set_defaults(func=run_check)

    explain = sub.add_parser("explain", help="show how your policies judge an offer (or another subject)")
    explain.add_argument("subject", type=Path, metavar="OFFER.json",
                         help='an offer as JSON; other subjects need "kind" (vendor, agreement, promo-email, '
                              "unsubscribe, renewal)")
    explain.add_argument("--policies", type=Path, action="append", metavar="PATH",
                         help="policy file or directory (default: $BUTLER_HOME/policies); may repeat")
    explain.add_argument("--spent", metavar="AMOUNT", help='spent so far this month, e.g. "120 EUR"')
    explain.add_argument("--vendor", type=Path, action="append", default=[], metavar="VENDOR.json",
                         help="facts about a vendor (owner, brands, certifications); may repeat")
    explain.set_defaults(func=run_explain)

    export = sub.add_parser("export-odrl", help="print the hard constraints as an ODRL 2.2 JSON-LD policy")
    export.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="policy files or directories")
    export.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
    export.set_defaults(func=run_export)


def _default_paths(paths: list[Path] | None) -> list[Path]:
    if paths:
        return paths
    directory = policies_dir()
    if not directory.is_dir():
        from butler.policy.packs import packs

        names = ", ".join(pack.name for pack in packs())
        raise ConfigError(
            f"no policy directory at {directory}",
            f"Start from the packs butler ships: `butler init --pack NAME` ({names}; or `all`), then edit them.",
        )
    return [directory]


def run_check(args: argparse.Namespace) -> int:
    paths = _default_paths(args.paths)
    files = policy_files(paths)
    failed = 0
    for path in files:  # each file alone first, so that every problem of every broken file is reported
        try:
            load_policies([path])
        except PolicyErrors as exc:
            failed += 1
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
            if exc.more:
                print(f"error: … and {exc.more} more problems in {path}", file=sys.stderr)
            elif exc.stopped:
                print(f"error: … and more contradictions in {path}: the check stops after {len(exc.problems)}",
                      file=sys.stderr)
        except ConfigError as exc:
            failed += 1
            print(f"error: {exc.message}", file=sys.stderr)
    if failed:
        print(f"{failed} of {len(files)} policy files failed the check", file=sys.stderr)
        return ConfigError.exit_code
    policies = load_policies(files)  # then together: duplicate ids, contradictions across files
    print(
        f"OK: {len(files)} file{'s' if len(files) != 1 else ''}, {len(policies.rules)} rules, "
        f"{len(policies.preferences)} preferences"
    )
    return 0


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start}); save the {what} as UTF-8 JSON") from exc
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object")
    return data


def _model(model: type[BaseModel], data: dict[str, Any], path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise UsageError(f"{path}: field {field}: {first['msg']}", "Fix the JSON file and try again.") from exc


def _subject(path: Path) -> Subject:
    data = _read_json(path, "subject")
    kind = str(data.pop("kind", "offer"))
    model = _SUBJECTS.get(kind)
    if model is None:
        raise UsageError(f"{path}: unknown kind {kind!r}; use one of {', '.join(_SUBJECTS)}")
    subject: Subject = _model(model, data, path)
    return subject


def _policies(paths: list[Path] | None) -> PolicySet:
    return load_policies(_default_paths(paths))


def run_explain(args: argparse.Namespace) -> int:
    policies = _policies(args.policies)
    subject = _subject(args.subject)
    spent: Money | None = None
    if args.spent:
        try:
            spent = Money.model_validate(parse_money(args.spent))
        except (ValueError, ValidationError) as exc:
            raise UsageError(f'--spent: write an amount and a currency, like "120 EUR"; got {args.spent!r}') \
                from exc
    vendors = {v.id: v for v in (_model(Vendor, _read_json(p, "vendor"), p) for p in args.vendor)}
    decision = evaluate(subject, policies, EvalContext(spent_this_month=spent, vendors=vendors))
    print(f"Decision: {decision.verdict.value.upper()}")
    fired = decision.fired
    if fired:
        print("Rules that fired:")
        for reason in fired:
            print(f"  [{reason.verdict.value}] {reason.rule_id} ({reason.location})")
            print(f"      {reason.text}")
    passed = [r for r in decision.reasons if r not in fired]
    if passed:
        print("Rules that passed:")
        for reason in passed:
            print(f"  [allow] {reason.rule_id} ({reason.location})")
            print(f"      {reason.text}")
    if not decision.reasons:
        print("No rule applies to this subject.")
    if isinstance(subject, Offer):
        print(f"Preference score: {offer_utility(subject, policies):.2f} (0 = worst, 1 = best)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    policies = _policies(args.paths)
    text = json.dumps(to_odrl(policies), indent=2, ensure_ascii=False)
    if args.output:
        try:
            args.output.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    else:
        print(text)
    return 0
