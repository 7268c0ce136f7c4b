"""`butler doctor`: is this butler healthy, and if not, what to do about it.

Each check gives findings: a severity (ok, warning, error), a sentence in plain language and, unless it is ok, a
fix. The exit code is the worst severity: 0 when all is well, 1 when something could be better (warnings), 2
when something does not work (errors). `--json` prints the same findings as one JSON object.

Doctor changes nothing: it opens the vault only with a key found without asking (the unlock agent, the OS
keyring, BUTLER_PASSPHRASE_FILE), never stores a key, and talks to the mail server and the vendors only to log in
or validate, each within a short deadline.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from butler import paths
from butler.commands.doctor_checks import EXIT_CODES, FILE_CHECKS, HOME_CHECKS, Checkup, Finding, exit_code
from butler.commands.doctor_remote import check_connectors, check_mail
from butler.errors import ButlerError

__all__ = ["EXIT_CODES", "Finding", "add_parser", "diagnose", "exit_code"]

CHECKS = [*HOME_CHECKS, check_mail, check_connectors, *FILE_CHECKS]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check keyring, permissions, vault, daemon, mail, connectors, policies and disk",
        description="Check that butler can do its work, unattended too, and say how to fix what is wrong. Exit "
                    "code: 0 all is well, 1 warnings (something could be better), 2 errors (something does not "
                    "work).")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--offline", action="store_true",
                        help="do not contact the mail server or the vendors")
    parser.set_defaults(func=run)


def diagnose(home: Path | None = None, *, offline: bool = False) -> list[Finding]:
    """Every finding about the butler in `home` (default BUTLER_HOME), in the order of the checks."""
    ctx = Checkup(home or paths.butler_home(), offline=offline)
    try:
        for check in CHECKS:
            try:
                check(ctx)
            except ButlerError as exc:
                ctx.add(check.__name__.lstrip("_").removeprefix("check_"), "error", exc.message, exc.hint)
            except Exception as exc:  # doctor reports, it does not crash
                ctx.add(check.__name__.lstrip("_").removeprefix("check_"), "error",
                        f"the check itself failed: {type(exc).__name__}: {exc}",
                        "Please report this with `butler doctor --json`.")
    finally:
        if ctx.vault is not None:
            ctx.vault.close()
    return ctx.findings


def _lines(findings: list[Finding]) -> Iterator[str]:
    for f in findings:
        yield f"{f.severity:<8} {f.check:<18} {f.text}"
        if f.fix and f.severity != "ok":
            yield f"{'':<8} {'':<18} fix: {f.fix}"


def run(args: argparse.Namespace) -> int:
    from butler.log import redact

    home = paths.butler_home()
    findings = diagnose(home, offline=args.offline)
    code = exit_code(findings)
    if args.json:
        worst = next(s for s, c in EXIT_CODES.items() if c == code)
        json.dump({"home": str(home), "worst": worst, "exit_code": code,
                   "findings": [asdict(f) for f in findings]}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return code
    for line in _lines(findings):
        print(redact(line))
    warnings = sum(f.severity == "warning" for f in findings)
    errors = sum(f.severity == "error" for f in findings)
    print()
    print("all is well" if code == 0 else f"{errors} error(s), {warnings} warning(s)")
    return code
