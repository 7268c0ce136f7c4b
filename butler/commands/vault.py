"""`butler vault …`: status, records, backups, passphrase change, key rotation, compaction, recovery, and
accepting files put back on purpose."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from butler import paths
from butler.commands.common import ask_new_passphrase, ask_passphrase, unlock
from butler.errors import UsageError
from butler.vault import change_passphrase, export_backup, import_backup, keyring_store, rotate_data_key
from butler.vault.keys import anchor_factory


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("vault", help="inspect and maintain the encrypted vault",
                                   description="Inspect and maintain the encrypted vault.")
    sub = parser.add_subparsers(dest="vault_command", metavar="ACTION", required=True)
    sub.add_parser("status", help="records, sizes, KDF parameters and keyring in use").set_defaults(func=status)
    p = sub.add_parser("list", help="list collections, or the record ids in one collection")
    p.add_argument("collection", nargs="?", help="a collection name")
    p.set_defaults(func=list_records)
    p = sub.add_parser("get", help="print one record as JSON")
    p.add_argument("collection")
    p.add_argument("id")
    p.set_defaults(func=get_record)
    p = sub.add_parser("put", help="store one record, JSON read from standard input")
    p.add_argument("collection")
    p.add_argument("id")
    p.set_defaults(func=put_record)
    p = sub.add_parser("export", help="write an encrypted backup of the vault and everything else in BUTLER_HOME "
                                      "(opens with today's passphrase)")
    p.add_argument("file", type=Path)
    p.set_defaults(func=export)
    p = sub.add_parser("import", help="restore a backup file into BUTLER_HOME (vault, config, policies, mail "
                                      "state, schedule)")
    p.add_argument("file", type=Path)
    p.add_argument("--replace", action="store_true", help="move the current vault aside (never deleted)")
    p.set_defaults(func=import_)
    sub.add_parser("passwd", help="change the passphrase (re-wraps the key only)").set_defaults(func=passwd)
    sub.add_parser("rotate", help="re-encrypt everything under a new data key").set_defaults(func=rotate)
    sub.add_parser("compact", help="rewrite the vault file without superseded records").set_defaults(func=compact)
    sub.add_parser("recover", help="after a power loss tore the last write: return to the last sound write "
                                   "(a copy of each changed file is kept)").set_defaults(func=recover)
    p = sub.add_parser("accept-rollback", help="after putting older vault files back on purpose: take them as the "
                                                "newest (asks for the passphrase)")
    p.add_argument("--yes", action="store_true", help="do not ask to confirm")
    p.set_defaults(func=accept_rollback)


def status(args: argparse.Namespace) -> int:
    unlocked = unlock()
    with unlocked.vault as vault:
        st = vault.status()
    print(f"home        {st.home}")
    print(f"vault id    {st.vault_id}")
    print(f"unlocked by {unlocked.source}")
    store = keyring_store(st.home)
    print(f"keyring     {store.name if store else 'none (passphrase only)'}")
    print(f"kdf         {st.kdf}")
    print(f"vault file  {st.vault_bytes} bytes ({st.live_bytes} bytes of live records)")
    print(f"audit log   {st.audit_bytes} bytes, {st.audit_entries} entries")
    print(f"records     {sum(n for c, n in st.records.items() if not c.startswith('_'))}")
    for collection, count in st.records.items():
        if not collection.startswith("_"):
            print(f"  {collection:<20} {count}")
    return 0


def list_records(args: argparse.Namespace) -> int:
    with unlock(quiet=True).vault as vault:
        if args.collection:
            for record_id in vault.ids(args.collection):
                print(record_id)
        else:
            for collection, count in vault.collections().items():
                print(f"{collection}\t{count}")
    return 0


def get_record(args: argparse.Namespace) -> int:
    with unlock(quiet=True).vault as vault:
        record = vault.get(args.collection, args.id)
    if record is None:
        raise UsageError(f"no record {args.collection}/{args.id}")
    from butler.wiring import catalog

    declared = catalog().get(args.collection)
    # the person's own collections (`vault put`) print whole; what butler's owners declare secret never does
    shown = record.data if declared is None else declared.view(args.id, record.data)
    if shown is None:
        print(f"{args.collection}/{args.id} holds a secret: butler never prints it")
        return 0
    print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0


def put_record(args: argparse.Namespace) -> int:
    try:
        data = json.loads(sys.stdin.read())
    except ValueError as exc:
        raise UsageError(f"standard input is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError("a record is a JSON object")
    with unlock(quiet=True).vault as vault:
        record = vault.put(args.collection, args.id, data)
    print(f"{args.collection}/{args.id} version {record.version}")
    return 0


def export(args: argparse.Namespace) -> int:
    with unlock().vault as vault:
        size = export_backup(vault, args.file)
    print(f"backup written to {args.file} ({size} bytes); it opens with the current passphrase")
    return 0


def import_(args: argparse.Namespace) -> int:
    passphrase = ask_passphrase("Passphrase of the backup: ")
    home = paths.ensure_home()
    moved = import_backup(args.file, home, passphrase, replace=args.replace,
                          anchors=anchor_factory(home, keyring_store(home)))
    print(f"vault restored from {args.file}")
    if moved:
        print(f"the previous vault was moved to {moved}")
    return 0


def passwd(args: argparse.Namespace) -> int:
    old = ask_passphrase("Current passphrase: ")
    new = ask_new_passphrase()
    with unlock(quiet=True).vault as vault:
        change_passphrase(vault, old, new)
    print("passphrase changed; the vault key was re-wrapped, records untouched")
    return 0


def rotate(args: argparse.Namespace) -> int:
    passphrase = ask_passphrase()
    vault = unlock(quiet=True).vault
    vault = rotate_data_key(vault, passphrase)
    try:
        store = keyring_store(vault.home)
        if store is not None:
            store.remember(vault)
        print(f"rotated: {sum(vault.collections().values())} records re-encrypted under a new data key")
    finally:
        vault.close()
    return 0


def compact(args: argparse.Namespace) -> int:
    with unlock(quiet=True).vault as vault:
        before = paths.vault_log_path(vault.home).stat().st_size
        vault.compact()
        after = paths.vault_log_path(vault.home).stat().st_size
    print(f"compacted: {before} → {after} bytes")
    return 0


def recover(args: argparse.Namespace) -> int:
    from butler.vault.recover import recover_vault

    home = paths.butler_home()
    report = recover_vault(home, ask_passphrase(), anchors=anchor_factory(home, keyring_store(home)))
    for result in report.files:
        name = result.path.name
        if not result.recovered:
            print(f"{name}: sound ({result.frames} writes); nothing changed")
            continue
        damaged = " and ".join("AB"[i] for i in result.damaged_slots)
        why = f"commit record {damaged} did not authenticate" if damaged else "the file ends before its last commit"
        print(f"{name}: {why}; it now ends at the last sound write ({result.frames} writes, {result.length} bytes)")
        print(f"    {result.past_commit} bytes after it were an unfinished or lost write; "
              f"the file as it was is kept at {result.kept}")
    if report.unaudited is not None:
        print(f"{report.unaudited.path.name}: its last change went too, as the audit entry that committed it was "
              f"lost ({report.unaudited.past_commit} bytes; the file as it was is kept at {report.unaudited.kept})")
    if report.recommitted:
        print(f"{paths.vault_log_path(home).name}: the change after it was committed again from its audit entry "
              f"({report.recommitted} bytes)")
    print("the vault opens and its audit chain verifies")
    return 0


def accept_rollback(args: argparse.Namespace) -> int:
    from butler.errors import VaultRolledBack
    from butler.vault import Vault
    from butler.vault.keyfile import KeyFile

    home = paths.butler_home()
    try:
        with unlock(quiet=True).vault:
            print("the vault's files are not older than it has been: nothing to accept")
            return 0
    except VaultRolledBack as exc:
        print(f"found: {exc.message}")
    passphrase = ask_passphrase("Passphrase (to take these files as the newest): ")
    key = KeyFile.read(paths.vault_key_path(home)).unwrap(passphrase)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("confirm with --yes: there is no terminal to ask on")
        answer = input("Take the files as they are as the newest state of the vault? Writes after them are "
                       "given up. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing changed")
            return 1
    with Vault(home, key, anchors=anchor_factory(home, keyring_store(home)), trust_files=True) as vault:
        before = vault.accept_rollback()
    was = ", ".join(f"{a['vault_seq']} commits and {a['audit_length']} audit bytes ({a['where']})"
                    for a in before["anchors_were"]) or "no anchor"
    print(f"accepted: the vault now stands at {before['vault_commits']} commits; it had been seen at {was}")
    return 0
