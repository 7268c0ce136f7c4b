"""`butler init`: create BUTLER_HOME and the vault, and keep the key in the OS keyring."""

from __future__ import annotations

import argparse
import os

from butler import paths
from butler.commands.common import ask_new_passphrase
from butler.errors import KeyringError
from butler.vault import crypto
from butler.vault.keys import ENV_PASSPHRASE_FILE, keyring_store
from butler.vault.store import Vault


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "init", help="create your butler home and encrypted vault",
        description="Create BUTLER_HOME and an encrypted vault. The passphrase is asked twice, or read from "
                    "BUTLER_PASSPHRASE_FILE. The vault key is kept in the OS keyring where there is one.",
    )
    parser.add_argument("--no-keyring", action="store_true", help="do not store the vault key in the OS keyring")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    home = paths.ensure_home()
    passphrase = ask_new_passphrase(ENV_PASSPHRASE_FILE)
    kdf = crypto.KdfParams.fast_for_tests() if os.environ.get("BUTLER_INSECURE_FAST_KDF") == "1" else None
    vault = Vault.create(home, passphrase, kdf)
    try:
        print(f"vault created in {home}")
        if args.no_keyring:
            print("the vault key is not kept in a keyring: butler will ask for the passphrase")
            return 0
        try:
            store = keyring_store(home)
        except KeyringError as exc:
            print(f"note: {exc.message}; butler will ask for the passphrase (or read {ENV_PASSPHRASE_FILE})")
            return 0
        if store is None:
            print(f"no OS keyring here: butler will ask for the passphrase (or read {ENV_PASSPHRASE_FILE})")
            return 0
        try:
            store.remember(vault)
            print(f"vault key kept in the OS keyring ({store.name})")
        except KeyringError as exc:
            print(f"note: {exc.message}; butler will ask for the passphrase instead")
        return 0
    finally:
        vault.close()
