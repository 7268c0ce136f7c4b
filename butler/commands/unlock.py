"""`butler unlock [--for 15m]` and `butler lock`: keep the vault key in this user's unlock agent for a while, so
commands without an OS keyring need no passphrase and no key derivation (see `butler.agent`)."""

from __future__ import annotations

import argparse

from butler import paths
from butler.agent import DEFAULT_SECONDS, AgentClient, agent_socket_path, parse_duration, start_agent
from butler.commands.common import ask_passphrase
from butler.errors import UsageError
from butler.vault import Vault, keyring_store
from butler.vault.keyfile import KeyFile
from butler.vault.keys import anchor_factory, vault_settings

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "unlock", help="keep the vault unlocked for a while, so commands need no passphrase",
        description="Ask for the passphrase once and keep the vault key in a per-user agent (a 0600 socket, like "
                    "ssh-agent) until the time is up or `butler lock`; meanwhile every butler command, and the "
                    "daemon, gets the key from it.")
    p.add_argument("--for", dest="duration", default=f"{DEFAULT_SECONDS // 60}m", metavar="DURATION",
                   help="how long: 15m, 2h, 1h30m, 90s (default 15m, at most 7 days)")
    p.set_defaults(func=unlock)
    p = subparsers.add_parser("lock", help="forget the key `butler unlock` kept (the agent exits)",
                              description="Tell the unlock agent to forget every key and exit.")
    p.set_defaults(func=lock)


def _human(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs else ""]
    return " ".join(p for p in parts if p)


def unlock(args: argparse.Namespace) -> int:
    try:
        seconds = parse_duration(args.duration)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    home = paths.butler_home()
    key_file = KeyFile.read(paths.vault_key_path(home))
    key = key_file.unwrap(ask_passphrase())
    store = keyring_store(home, vault_settings(home))
    with Vault(home, key, anchors=anchor_factory(home, store)):
        pass  # it opens with this key and its files are fresh: only then is the key handed out
    pid = start_agent()
    AgentClient().add(key_file.vault_id, key, seconds)
    print(f"vault unlocked for {_human(seconds)} (agent pid {pid}, socket {agent_socket_path()}); "
          "`butler lock` locks it again")
    return 0


def lock(args: argparse.Namespace) -> int:
    if AgentClient().lock():
        print("locked: the agent forgot the key and exits")
    else:
        print("no unlock agent was running")
    return 0
