"""A local Maildir (Maildir++ folders: `.Promotions` under the root) as a `MailSource`.

Moving is a rename within one file system, which is atomic and keeps the file's name, so its flags (`:2,S`)
and its new/cur place are untouched: butler never marks mail read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

from butler.mail.errors import MailSourceError
from butler.mail.message import BODY_PREFIX, read_facts
from butler.mail.mime import split_head
from butler.mail.sources import FetchedMessage, FolderInfo, FolderView, Identity, Moved, Peeked, message_key

__all__ = ["MaildirSource"]

INBOX = "INBOX"


class MaildirSource:
    """A Maildir at `root`; folder `INBOX` is the root itself."""

    can_move_atomically = True

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()
        if not all((self.root / sub).is_dir() for sub in ("cur", "new")):
            raise MailSourceError(f"{self.root} is not a Maildir (no cur/ and new/)",
                                  "Point --maildir at the directory that holds cur/, new/ and tmp/.")
        self.account = f"maildir:{self.root}"

    def _dir(self, folder: str) -> Path:
        if folder == INBOX:
            return self.root
        if "/" in folder or folder.startswith(".") or not folder:
            raise MailSourceError(f"invalid folder name {folder!r}")
        return self.root / f".{folder}"

    def folders(self) -> list[FolderInfo]:
        names = sorted(p.name[1:] for p in self.root.iterdir() if p.name.startswith(".") and (p / "cur").is_dir())
        return [FolderInfo(INBOX), *(FolderInfo(name) for name in names)]

    def qualify(self, name: str) -> str:
        return name

    def folder_identity(self, name: str) -> str:
        try:
            return f"inode:{self._dir(name).stat().st_ino}"  # a rename keeps it
        except FileNotFoundError:
            return ""

    def count_keys(self, folder: str, keys: list[str]) -> int:
        wanted = set(keys)
        return sum(1 for identity in self.identities(folder).values() if identity.key in wanted)

    def status(self, folder: str) -> tuple[str, int]:
        return "maildir", 0

    def create_folder(self, name: str) -> None:
        base = self._dir(name)
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        (base / "maildirfolder").touch(exist_ok=True)

    def _files(self, folder: str) -> dict[str, Path]:
        out: dict[str, Path] = {}
        base = self._dir(folder)
        for sub in ("new", "cur"):
            try:
                names = os.listdir(base / sub)
            except FileNotFoundError:
                continue
            for name in names:
                if not name.startswith("."):
                    out[name.split(":", 1)[0]] = base / sub / name
        return out

    def view(self, folder: str, after: int, *, read_only: bool = False) -> FolderView:
        return FolderView(validity="maildir", uids=sorted(self._files(folder)), highest=0)

    def fetch(self, folder: str, uids: list[str]) -> Iterator[FetchedMessage]:
        files = self._files(folder)
        for uid in uids:
            path = files.get(uid)
            if path is None:
                continue
            try:
                with open(path, "rb") as fh:
                    raw = fh.read(BODY_PREFIX)
                    size = os.fstat(fh.fileno()).st_size
            except FileNotFoundError:  # moved by another client meanwhile
                continue
            yield FetchedMessage(uid, raw, _seen(path), size, "T" in path.name.partition(":2,")[2])

    def fetch_batches(self, folder: str, batches: list[list[str]]) -> Generator[list[FetchedMessage], None, None]:
        for batch in batches:
            yield list(self.fetch(folder, batch))

    def start_move(self, folder: str, uids: list[str], target: str) -> Callable[[], Moved]:
        moved = self.move(folder, uids, target)
        return lambda: moved

    def move(self, folder: str, uids: list[str], target: str) -> Moved:
        self.create_folder(target)
        files = self._files(folder)
        destination = self._dir(target)
        moved: dict[str, str] = {}
        for uid in uids:
            path = files.get(uid)
            if path is None:
                continue
            try:
                os.rename(path, destination / path.parent.name / path.name)
            except FileNotFoundError:
                continue
            moved[uid] = uid
        return Moved("maildir", moved)

    transfer = move

    def copy(self, folder: str, uids: list[str], target: str) -> Moved:
        raise MailSourceError("a Maildir moves by rename; it never copies")

    def verify(self, folder: str, target: str, mapping: dict[str, str]) -> dict[str, str]:
        present = self.exists(target, list(mapping.values()))
        return {old: new for old, new in mapping.items() if new in present}

    def expunge(self, folder: str, uids: list[str]) -> None:
        raise MailSourceError("a Maildir moves by rename; it never expunges")

    def undelete(self, folder: str, uids: list[str]) -> None:
        return None

    def identities(self, folder: str, uids: list[str] | None = None, *, from_uid: int = 0) -> dict[str, Identity]:
        files = self._files(folder)
        out: dict[str, Identity] = {}
        for uid in files if uids is None else [u for u in uids if u in files]:
            try:
                with open(files[uid], "rb") as fh:
                    facts = read_facts(fh.read(BODY_PREFIX))
                    size = os.fstat(fh.fileno()).st_size
            except OSError:
                continue
            out[uid] = Identity(message_key(facts.message_id, facts.fingerprint), size)
        return out

    def exists(self, folder: str, uids: list[str]) -> set[str]:
        return set(uids) & set(self._files(folder))

    def seen_flags(self, folder: str) -> dict[str, bool]:
        return {uid: _seen(path) for uid, path in self._files(folder).items()}

    def find_message(self, folder: str, message_id: str) -> list[str]:
        try:
            wanted = message_key(message_id, "")
            return [uid for uid, identity in self.identities(folder).items() if identity.key == wanted]
        except MailSourceError:
            return []

    def fetch_whole(self, folder: str, uid: str, limit: int) -> bytes | None:
        path = self._files(folder).get(uid)
        try:
            if path is None or path.stat().st_size > limit:
                return None
            return path.read_bytes()
        except OSError:
            return None

    def peek(self, folder: str, fields: tuple[str, ...], newest: int) -> list[Peeked]:
        files = self._files(folder)
        out: list[Peeked] = []
        for uid in sorted(files)[-newest:] if newest else []:
            try:
                with open(files[uid], "rb") as fh:
                    header, _ = split_head(fh.read(16 * 1024))
            except OSError:
                continue
            info = files[uid].name.partition(":2,")[2]
            out.append(Peeked(uid, header, "S" in info, "F" in info))
        return out

    def close(self) -> None:
        return None


def _seen(path: Path) -> bool:
    info = path.name.partition(":2,")[2]
    return "S" in info
