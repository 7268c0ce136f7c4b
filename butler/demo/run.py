"""The demo: a throwaway BUTLER_HOME, example policies, example vendors on loopback, a short report.

It needs the source checkout (the example vendors and policy packs live beside the package).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from butler import profile
from butler.atomic import atomic_write
from butler.errors import UsageError
from butler.models import DataUse, Money, Offer, Profile
from butler.negotiate import contracts
from butler.policy.packs import install_packs, packs

__all__ = ["run_demo", "source_root"]

Say = Callable[[str], None]


def source_root() -> Path:
    """The checkout that holds `examples/` (and the bundled connectors) beside the package."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "examples").is_dir():
        raise UsageError("butler demo needs the source checkout (examples/ beside butler/)",
                         "Install with `pip install -e .` from a clone of the repository.")
    return root


def _importable(root: Path) -> None:
    """Make the checkout's examples and bundled connectors importable (they are not installed packages)."""
    for path in (root, *sorted((root / "connectors").glob("*/src"))):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def _sample_offers() -> list[Offer]:
    def offer(oid: str, **kw: Any) -> Offer:
        return Offer(id=oid, **kw)

    return [
        offer("laptop-fair", vendor_id="fairbyte", product="Fairbyte 14 laptop", category="electronics",
              price=Money.of("849.00", "EUR"), certifications=("TCO Certified", "B Corp"), country_of_origin="NL",
              data_use=DataUse.SERVICE, myterms="SD-BASE", rating=4),
        offer("laptop-cheap", vendor_id="megamart", product="Budget laptop", category="electronics",
              price=Money.of("499.00", "EUR"), data_use=DataUse.SHARE_THIRD_PARTY, rating=3),
        offer("energy-green", vendor_id="greenwatt", product="100% wind, 12 months", category="energy",
              price=Money.of("61.00", "EUR"), period="month", term_months=12, carbon_intensity_g_per_kwh=12,
              renewable_share=1, myterms="SD-BASE", data_use=DataUse.SERVICE),
        offer("energy-fossil", vendor_id="coalco", product="Fixed 36 months", category="energy",
              price=Money.of("55.00", "EUR"), period="month", term_months=36, auto_renew=True,
              carbon_intensity_g_per_kwh=480, renewable_share=0, data_use=DataUse.PROFILING_FIRST_PARTY),
    ]


def _section(say: Say, title: str) -> None:
    say("")
    say(f"── {title} " + "─" * max(0, 60 - len(title)))


def run_demo(say: Say = print, keep: bool = False, tui: bool | None = None) -> int:
    """Run every part of the butler that exists on a throwaway home; returns an exit code."""
    root = source_root()
    home = Path(tempfile.mkdtemp(prefix="butler-demo-"))
    saved = {k: os.environ.get(k) for k in ("BUTLER_HOME", "BUTLER_KEYRING", "BUTLER_PASSPHRASE_FILE")}
    os.environ.update(BUTLER_HOME=str(home), BUTLER_KEYRING="none")
    os.environ.pop("BUTLER_PASSPHRASE_FILE", None)
    try:
        # the example vendors stay up until the terminal UI closes, so approving an item there carries it out
        with _vendor_servers(root) as servers:
            code = _run(root, home, servers, say)
            if tui if tui is not None else (sys.stdin.isatty() and sys.stdout.isatty()):
                from butler.tui import make_app

                say("\nopening the terminal UI on the demo home (q quits; the home is removed afterwards)")
                app = make_app()
                app.run()
                code = int(app.return_code or 0) or code
        return code
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if keep:
            say(f"\nthe demo home is kept at {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def _run(root: Path, home: Path, servers: _Servers, say: Say) -> int:
    from butler.policy import EvalContext, evaluate, load_policies
    from butler.vault import Vault

    say(f"butler demo — a throwaway home in {home} (removed afterwards)")
    _section(say, "vault")
    passphrase = secrets.token_urlsafe(18)
    secret_file = home / "demo-passphrase"  # lets the TUI open the throwaway vault; removed with the home
    atomic_write(secret_file, passphrase.encode())
    os.environ["BUTLER_PASSPHRASE_FILE"] = str(secret_file)
    # a local setup: the MyTerms vendors run on this machine, also while the terminal UI is open
    atomic_write(home / "config.toml", b"[terms]\nallow_loopback = true\n")
    Vault.create(home, passphrase).close()
    start = time.perf_counter()
    vault = Vault(home, Vault.key_from_passphrase(home, passphrase))
    say(f"encrypted vault created; unlock (Argon2id + open) took {time.perf_counter() - start:.2f} s")
    with vault:
        profile.save(vault, Profile(name="Alex Example", country="NL", currency="EUR"))
        contracts.save_raw(vault, "energy", {
            "id": "energy", "vendor_id": "coalco", "product": "Fixed 24 months", "category": "energy",
            "price": {"amount": "96.00", "currency": "EUR"}, "period": "month", "term_months": 24,
            "start": "2025-01-01", "renewal_date": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
            "usage": {"kwh_per_year": "2900"}})
        say(f"stored a profile and a contract: {sum(vault.collections().values())} records")

        _section(say, "policies")
        install_packs([pack.name for pack in packs()], home / "policies")
        policies = load_policies(home / "policies")
        say(f"loaded {len(policies.files)} policy files, {len(policies.rules)} rules")
        counts: dict[str, int] = {}
        spent = EvalContext(spent_this_month=Money.of("120.00", "EUR"))
        say(f"spent through the butler this month: {spent.spent_this_month}")
        for offer in _sample_offers():
            decision = evaluate(offer, policies, spent)
            counts[str(decision.verdict)] = counts.get(str(decision.verdict), 0) + 1
            say(f"{offer.product} ({offer.price}) from {offer.vendor_id}: {decision.verdict.upper()}")
            for reason in decision.fired[:3]:
                say(f"    {reason.rule_id} ({reason.location}): {reason.text}")

        _section(say, "connectors")
        _enable_vendors(vault, servers.vendors, say)

        _section(say, "terms (IEEE 7012 MyTerms)")
        terms_ok = asyncio.run(_terms(vault, policies, servers.myterms, say))

        _section(say, "negotiation (intent: cheaper energy, phone, insurance, a kettle)")
        deals = asyncio.run(_negotiate(vault, policies, spent, say))

        _section(say, "renewals (contracts renewing within 45 days)")
        renewals = asyncio.run(_renewals(vault, policies, spent, say))

        _section(say, "mail (a local Maildir of synthetic mail)")
        mail = _mail(home, vault, say)

        _section(say, "audit")
        report = vault.audit.verify()
        say(f"audit log verifies: {report.entries} entries, chain head {report.head[:16]}…")
        status = vault.status()

    _section(say, "report")
    say(f"records in the vault:   {sum(n for c, n in status.records.items() if not c.startswith('_'))}")
    say(f"offers judged:          {sum(counts.values())} ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))})")
    say(f"terms proffered:        {terms_ok} vendors answered")
    say(f"negotiations:           {deals[0]} vendors, {deals[1]} agreed, best waits for your approval")
    say(f"renewals proposed:      {renewals} (renew, switch or cancel, with the saving per year)")
    say(f"mail swept:             {mail[0]} messages, {mail[1]} moved out of the inbox, none deleted")
    say(f"audit entries:          {report.entries} (chain verified)")
    return 0


async def _terms(vault: Any, policies: Any, vendors: list[tuple[str, str]], say: Say) -> int:
    from butler.terms import proffer, verify_records

    answered = 0
    for label, url in vendors:
        outcome = await proffer(vault, url, policies=policies)
        answered += 1
        say(f"vendor that {label} ({url}): {outcome.status.value}")
        say("    " + outcome.describe().replace("\n", "\n    "))
        chain = verify_records(vault, outcome.vendor)
        chain.raise_for_problems()
        say(f"    {chain.records} signed records, chain verified")
    return answered


@dataclass(frozen=True)
class _Servers:
    vendors: dict[str, str]  # example vendor name → base URL
    myterms: list[tuple[str, str]]  # (how the MyTerms vendor answers, base URL)


@contextmanager
def _vendor_servers(root: Path) -> Iterator[_Servers]:
    """The example vendors and the three MyTerms vendors on loopback, for the length of the demo."""
    from butler.loopback import live_server

    _importable(root)
    from butler import registry
    from examples import myterms_vendor
    from examples.vendors import VENDORS, make_app

    answers = [
        ("accepts SD-BASE", myterms_vendor.Behaviour(accepts=("SD-BASE",))),
        ("wants analytics", myterms_vendor.Behaviour(accepts=("SD-BASE-A",), alternative="SD-BASE-A")),
        ("refuses", myterms_vendor.Behaviour(accepts=(), alternative=None)),
    ]
    try:
        with ExitStack() as running:
            yield _Servers(
                vendors={name: running.enter_context(live_server(make_app(spec))) for name, spec in VENDORS.items()},
                myterms=[(label, running.enter_context(live_server(myterms_vendor.make_app(behaviour))))
                         for label, behaviour in answers])
    finally:
        for name in VENDORS:
            registry.withdraw(f"example-{name}")  # provided by `_enable_vendors`


def _enable_vendors(vault: Any, urls: dict[str, str], say: Say) -> None:
    """One connector per example vendor (`example-<name>`), provided to the registry and enabled the way a person
    enables one: validated against the vendor, its API key stored as the connector's secret."""
    from butler_example_vendors import ExampleVendorConnector

    from butler import registry
    from examples.vendors import VENDORS

    for name, url in urls.items():
        manifest = ExampleVendorConnector.manifest.model_copy(
            update={"id": f"example-{name}", "name": f"Example vendor {name}"})
        cls = type(f"Example{name.title()}Connector", (ExampleVendorConnector,), {"manifest": manifest})
        registry.provide(cls)
        registry.enable(vault, cls, settings={"base_url": url, "max_rounds": 20},
                        secrets={"api_key": VENDORS[name].api_key})
    say(f"enabled {len(urls)} connectors, each validated against its vendor: "
        + ", ".join(f"example-{name}" for name in urls))


@asynccontextmanager
async def _example_vendors(vault: Any) -> AsyncIterator[list[tuple[str, Any]]]:
    """Every enabled connector, opened as `butler negotiate` opens them: (connector id, connector) pairs."""
    from butler.negotiate.vendors import entered, open_enabled

    async with entered(open_enabled(vault)) as opened:
        yield opened


async def _negotiate(vault: Any, policies: Any, context: Any, say: Say) -> tuple[int, int]:
    from butler.negotiate.session import negotiate_all
    from butler.sdk import OfferQuery

    async with _example_vendors(vault) as vendors:
        pairs = []
        for _, connector in vendors:
            offer = (await connector.list_offers(OfferQuery()))[0]
            pairs.append((connector, offer))
            say(f"{offer.vendor_id} ({connector.manifest.id}): {offer.product}, listed at {offer.price}")
        results = await negotiate_all(pairs, policies, vault, reserve=0.2, context=context,
                                      connector_ids=[cid for cid, _ in vendors])
    say("")
    for rank, result in enumerate(results, start=1):
        rounds = len(result.exchanges)
        if result.agreed is not None:
            saving = result.saving
            months = result.agreed.term_months
            term = f"for {months} months" if months else "with no fixed term"
            say(f"{rank}. {result.vendor_id}: agreed {result.agreed.price} {term}, "
                f"data use {result.agreed.data_use.value} (listed {result.offer.price}, saving {saving}); "
                f"utility {result.utility:.2f} after {rounds} offers")
        else:
            say(f"{rank}. {result.vendor_id}: {result.reason} after {rounds} offers")
    from butler.wiring import desk

    for item in desk().pending(vault):
        if item.kind == "purchase":
            say(f"waiting for your approval: {item.summary()} (nothing is bought without it)")
    return len(results), sum(1 for r in results if r.agreed is not None)


def _mail(home: Path, vault: Any, say: Say) -> tuple[int, int]:
    from collections import Counter

    from butler.demo.samples import modern_set
    from butler.mail.maildir import MaildirSource
    from butler.mail.settings import MailSettings
    from butler.mail.sweep import MailSweep

    maildir = home / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, mode=0o700)
    messages = modern_set(60, seed=2026)
    for number, message in enumerate(messages):
        (maildir / "new" / f"{number:04d}.demo:2,").write_bytes(message.raw)
    say(f"{len(messages)} messages in the inbox: "
        + ", ".join(f"{n} {label}" for label, n in Counter(m.label for m in messages).most_common()))

    def count() -> int:
        return sum(1 for path in maildir.rglob("*") if path.is_file() and path.parent.name in ("cur", "new"))

    source = MaildirSource(maildir)
    try:
        report = MailSweep(source, MailSettings(), home=home).run()
        say(report.summary().replace("\n", "\n    "))
        again = MailSweep(source, MailSettings(), home=home).run()
    finally:
        source.close()
    moved = sum(report.moved.values())
    vault.audit.append("mail.sweep", "demo maildir", {"examined": report.examined, "moved": moved})
    say(f"every message is still there ({count()} of {len(messages)}); a second sweep moved "
        f"{sum(again.moved.values())}")
    return report.examined, moved


async def _renewals(vault: Any, policies: Any, context: Any, say: Say) -> int:
    from butler.negotiate.renewal import sweep_renewals

    async with _example_vendors(vault) as vendors:
        proposals = await sweep_renewals(vault, policies, vendors, within_days=45, context=context)
    for proposal in proposals:
        say(f"{proposal.contract.product} ({proposal.contract.vendor_id}, renews {proposal.contract.renewal_date}):")
        say(f"    proposed: {proposal.summary}")
        for reason in proposal.reasons[:4]:
            say(f"    - {reason}")
    return len(proposals)
