"""`butler config show|get|set`: the settings of config.toml, validated by the same models butler loads it with."""

from __future__ import annotations

import argparse
import json
import sys

from butler import paths

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "config", help="show, get or set a setting of config.toml (validated)",
        description="Settings live in BUTLER_HOME/config.toml, by section: `daemon.backup_days`, `vault.keyring`, "
                    "… A new value is checked before anything is written; the file keeps its comments.")
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    p = sub.add_parser("show", help="every setting, its value and its default (secrets masked)")
    p.add_argument("--json", action="store_true", help="print the settings as JSON")
    p.set_defaults(func=show)
    p = sub.add_parser("get", help="one setting's value")
    p.add_argument("key", metavar="KEY", help="section.name, e.g. daemon.mail_sweep_minutes")
    p.set_defaults(func=get)
    p = sub.add_parser("set", help="change one setting (checked first; the file stays 0600)")
    p.add_argument("key", metavar="KEY", help="section.name, e.g. daemon.mail_sweep_minutes")
    p.add_argument("value", metavar="VALUE", help='a number, true/false, or text (quotes optional: "none" or none)')
    p.set_defaults(func=set_value)


def show(args: argparse.Namespace) -> int:
    from butler.config import load_config, settings

    path = paths.config_path()
    found = settings(load_config(path))
    if args.json:
        json.dump({s.key: ("********" if s.secret and s.value not in (None, "") else s.value) for s in found},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"# {path}{'' if path.exists() else ' (not written yet: every value is the default)'}")
    width = max(len(s.key) for s in found)
    for s in found:
        changed = "" if s.value == s.default else "   (default " + _shown_default(s.default) + ")"
        print(f"{s.key:<{width}} = {s.shown:<12} # {s.description}{changed}")
    return 0


def _shown_default(value: object) -> str:
    from butler.config import Setting

    return Setting(key="", value=value, default=value, description="").shown


def get(args: argparse.Namespace) -> int:
    from butler.config import get_setting, load_config

    setting = get_setting(load_config(paths.config_path()), args.key)
    print(setting.shown if setting.secret else setting.value if isinstance(setting.value, str) else setting.shown)
    return 0


def set_value(args: argparse.Namespace) -> int:
    from butler.config import get_setting, set_setting

    path = paths.config_path()
    config = set_setting(args.key, args.value, path)
    print(f"{args.key} = {get_setting(config, args.key).shown}  ({path})")
    if args.key.startswith("daemon."):
        print("a running daemon uses it after a restart (`systemctl --user restart butler`)")
    return 0
