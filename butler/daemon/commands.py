"""`butler daemon [run]`, `butler daemon install [--print]` and `butler status` (also `butler daemon status`)."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections import Counter
from typing import Any

from butler import paths
from butler.daemon.lock import lock_holder
from butler.daemon.specs import default_specs
from butler.daemon.state import DaemonState, job_records
from butler.daemon.store import stored_next_runs
from butler.errors import VaultLocked, VaultNotFound
from butler.log import setup_logging

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "daemon", help="run the background sweeps and reminders (foreground; for systemd or a terminal)",
        description="Run butler's schedule in the foreground: mail sweep, renewal reminders, intent watch, "
                    "audit check and vault backups. Stop it with Ctrl-C or SIGTERM.")
    parser.set_defaults(func=run)
    sub = parser.add_subparsers(dest="daemon_command", metavar="ACTION")
    sub.add_parser("run", help="run the schedule in the foreground (the default)").set_defaults(func=run)
    p = sub.add_parser("install", help="write a systemd user unit (launchd agent on macOS) that runs the daemon")
    p.add_argument("--print", action="store_true", dest="print_only", help="print the file instead of writing it")
    p.set_defaults(func=install)
    sub.add_parser("status", help="same as `butler status`").set_defaults(func=status)
    subparsers.add_parser("status", help="is the daemon up, when do its jobs run, what waits for approval",
                          description="Show the daemon, its jobs and the items waiting for your approval."
                          ).set_defaults(func=status)


def run(args: argparse.Namespace) -> int:
    # the journal wants to know what ran; -v adds debug
    setup_logging(logging.DEBUG if getattr(args, "verbose", 0) >= 2 else logging.INFO)
    from butler.daemon.schedule import Daemon

    Daemon().run()
    return 0


def install(args: argparse.Namespace) -> int:
    from butler.daemon.systemd import service_file

    target = service_file()
    if args.print_only:
        sys.stdout.write(target.text)
        return 0
    changed = target.write()
    print(f"{'wrote' if changed else 'up to date:'} {target.path}")
    print("Nothing is enabled yet. To start the daemon now and at every login, run:")
    print(f"  {target.enable}")
    return 0


def _when(value: dt.datetime | str | None) -> str:
    if value is None:
        return "-"
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _took(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s" if seconds < 600 else f"{seconds / 60:.0f} min"


def status(args: argparse.Namespace) -> int:
    from butler.config import load_config
    from butler.vault.keys import open_vault

    home = paths.butler_home()
    pid = lock_holder(home)
    print(f"daemon: {'running, pid ' + str(pid) if pid else 'not running'} (BUTLER_HOME {home})")
    state = DaemonState.load(home)
    next_runs = stored_next_runs(home)
    records = {record.id: record for record in job_records(state=state)}
    ids = [spec.id for spec in default_specs(load_config().daemon)]
    ids += sorted((set(records) | set(next_runs)) - set(ids))
    print(f"  {'job':<15} {'last run':<17} {'took':>7}  {'next run':<17} result")
    for job_id in ids:
        record = records.get(job_id)
        took = _took(record.duration) if record else "-"
        result = record.last_result if record and record.last_result else "never ran"
        if record and record.consecutive_failures > 1:
            result += f" [{record.consecutive_failures} failures in a row]"
        print(f"  {job_id:<15} {_when(record.last_run if record else None):<17} {took:>7}  "
              f"{_when(next_runs.get(job_id)):<17} {result}")
        if record and record.error and not (record.last_result or "").endswith(record.error):
            print(f"  {'':<15} error: {record.error}")
    try:
        with open_vault(home, interactive=False).vault as vault:
            waiting, attention = _approvals(vault)
    except VaultNotFound:
        print("approvals: no vault yet (run `butler init`)")
        return 0
    except VaultLocked:
        print("approvals: vault locked; unlock the keyring or set BUTLER_PASSPHRASE_FILE to see them")
        return 0
    total = sum(waiting.values())
    detail = ", ".join(f"{n} {kind}" for kind, n in sorted(waiting.items()))
    print(f"approvals waiting: {total}" + (f" ({detail})" if detail else ""))
    for line in attention:
        print(f"  {line}")
    return 0


def _approvals(vault: Any) -> tuple[Counter[str], list[str]]:
    """Pending items by kind, and a line for each open item that is not pending. The desk with every kind (and
    what they import) is loaded only when such an item exists: an interrupted one is settled first."""
    from butler.approvals import OPEN, State, raw_items

    raw = raw_items(vault)
    states = [str(item.get("state", State.PENDING)) for item in raw]
    if not any(state in OPEN and state != State.PENDING for state in states):
        return Counter(str(item.get("kind")) for item, state in zip(raw, states, strict=True)
                       if state == State.PENDING), []
    from butler.wiring import desk

    the_desk = desk()
    the_desk.reconcile(vault)
    items = the_desk.items(vault, OPEN)
    waiting = Counter(i.kind for i in items if i.state is State.PENDING)
    return waiting, [f"{i.id} is {i.state.value}: {i.note or i.summary()}" for i in items
                     if i.state is not State.PENDING]
