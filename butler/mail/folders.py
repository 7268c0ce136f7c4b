"""Which server folder a setting means: found by special use, by the name remembered, or by name in any case.

A folder name in the settings is written as the person sees it (`Promotions`); the server may file it under a
namespace prefix (`INBOX.Promotions` on Cyrus and Courier). Spam goes to the server's `\\Junk` folder where one
exists (RFC 6154). An existing folder is reused whatever its case (`promotions`). Once butler has used a folder it
remembers its name and identity (MAILBOXID, else UIDVALIDITY): a folder the person renamed is followed (found by
that identity, or, where a rename changes UIDVALIDITY as on Courier, by holding the messages butler moved there),
and one that is gone is reported, never silently created again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from butler.mail.errors import MailFolderGone
from butler.mail.sources import FolderInfo, MailSource

__all__ = ["JUNK", "FolderFinder", "renamed_folders"]

JUNK = "\\Junk"  # where spam goes when no folder is named for it: the server's junk folder, else Promotions


class FolderFinder:
    """Resolves folder settings against one source for one sweep; `places` is the remembered part (in state)."""

    def __init__(self, source: MailSource, places: dict[str, dict[str, Any]], fallback: str,
                 moved_keys: Callable[[str], list[str]] = lambda folder: []) -> None:
        self.source = source
        self.moved_keys = moved_keys  # folder → Message-IDs of some messages butler moved there
        self.places = places
        self.fallback = fallback  # where JUNK goes when the server has no \Junk folder
        self.notes: list[str] = []
        self.renamed: dict[str, str] = {}  # followed this sweep: old name → new name
        self._listing: list[FolderInfo] | None = None
        self._resolved: dict[str, str | None] = {}

    def _folders(self) -> list[FolderInfo]:
        if self._listing is None:
            self._listing = self.source.folders()
        return self._listing

    def find(self, wanted: str) -> str | None:
        """The server folder for `wanted`, or None when it does not exist yet (never creates).

        Raises MailFolderGone when the folder butler used before is neither there nor found renamed."""
        if wanted not in self._resolved:
            self._resolved[wanted] = self._find(wanted)
        return self._resolved[wanted]

    def target(self, wanted: str) -> str:
        """The server folder to move mail into for `wanted`, created when it never existed."""
        name = self.find(wanted)
        if name is None and wanted == JUNK:
            return self.target(self.fallback)
        if name is None:
            name = self.source.qualify(wanted)
            self.source.create_folder(name)
            self._listing = None
            self.notes.append(f"created folder {name}")
            self._remember(wanted, name)
            self._resolved[wanted] = name
        return name

    def _find(self, wanted: str) -> str | None:
        folders = self._folders()
        names = {f.name for f in folders}
        if wanted == JUNK:
            junk = sorted(f.name for f in folders if "\\junk" in f.special)
            return junk[0] if junk else None
        remembered = self.places.get(wanted)
        if remembered:
            if remembered["name"] in names:
                return str(remembered["name"])
            return self._renamed(wanted, remembered, folders)
        for candidate in (self.source.qualify(wanted), wanted):
            if candidate in names:
                self._remember(wanted, candidate)
                return candidate
        folded = {self.source.qualify(wanted).casefold(), wanted.casefold()}
        same = sorted(f.name for f in folders if f.name.casefold() in folded)
        if same:
            self.notes.append(f"using the existing folder {same[0]} for {wanted}")
            self._remember(wanted, same[0])
            return same[0]
        return None

    def _renamed(self, wanted: str, remembered: dict[str, Any], folders: list[FolderInfo]) -> str:
        identity = str(remembered.get("id") or "")
        if identity:
            for folder in folders:
                if folder.name.upper() != "INBOX" and self.source.folder_identity(folder.name) == identity:
                    self.notes.append(f"folder {remembered['name']} was renamed to {folder.name}: "
                                      f"{wanted} mail goes there now")
                    self._remember(wanted, folder.name, was=str(remembered["name"]))
                    return folder.name
        sample = self.moved_keys(str(remembered["name"]))[-5:]
        if sample:
            for folder in folders:
                if folder.name.upper() != "INBOX" and 2 * self.source.count_keys(folder.name, sample) > len(sample):
                    self.notes.append(f"folder {remembered['name']} was renamed to {folder.name} (it holds the mail "
                                      f"butler moved there): {wanted} mail goes there now")
                    self._remember(wanted, folder.name, was=str(remembered["name"]))
                    return folder.name
        raise MailFolderGone(
            f"the folder {remembered['name']} that butler moves {wanted} mail into is gone (renamed or removed); "
            "butler will not create it again behind your back",
            f"Create {remembered['name']} again in your mail client, or name the folder to use with `butler mail "
            "setup … --promotions-folder NAME` (or --offers-folder, --spam-folder).")

    def _remember(self, wanted: str, name: str, was: str | None = None) -> None:
        earlier = list(self.places.get(wanted, {}).get("was", []))
        self.places[wanted] = {"name": name, "id": self.source.folder_identity(name),
                               "was": [*earlier, was] if was else earlier}
        if was:
            self.renamed[was] = name


def renamed_folders(places: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Every earlier name of a folder butler uses → its name now (journal entries name the folder of their day)."""
    return {old: str(place["name"]) for place in places.values() for old in place.get("was", [])}
