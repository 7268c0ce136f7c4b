"""Discovery: messages → counterparties, their transactions, and replies to open requests. Everything stays in
the vault; nothing is sent anywhere.

`MailReader` takes raw messages in batches (from `discover_source`, or from the mail sweep, which is given one by
`butler.wiring.mail_readers` and then also drafts the follow-up letters of overdue requests). `discover_source`
walks every folder of a Maildir or IMAP mailbox read-only: it lists and fetches (IMAP BODY.PEEK, so nothing is
marked read) and never moves, flags or deletes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from butler import profile
from butler.mail.sources import MailSource
from butler.rights import counterparties, transactions
from butler.rights.database import Database, registrable
from butler.rights.followup import awaiting, link_reply, remind
from butler.rights.markup import Reading, Transaction, read
from butler.rights.matching import NameIndex
from butler.rights.whole import keep_left
from butler.vault import Vault

__all__ = ["Discovered", "MailReader", "discover_source"]

_SKIP = frozenset({"\\trash", "\\junk", "\\sent", "\\drafts"})
_BATCH = 200


@dataclass
class Discovered:
    """What a run found: messages read, transactional ones, counterparties seen and new, transactions new,
    replies linked, and plainly worded problems (malformed markup and the like)."""

    messages: int = 0
    transactional: int = 0
    counterparties: set[str] = field(default_factory=set)
    new_counterparties: int = 0
    new_transactions: int = 0
    replies: int = 0
    kept_whole: int = 0  # attachments kept from replies read whole (they were cut off at 256 KB)
    drafted: list[str] = field(default_factory=list)  # admonitions and complaints queued (with follow_up)
    problems: list[str] = field(default_factory=list)


class MailReader:
    """Reads messages for discovery; `read` takes one batch and writes what it learnt at the end of it."""

    def __init__(self, vault: Vault, database: Database, *, follow_up: bool = False) -> None:
        self.vault = vault
        self.database = database
        self.follow_up = follow_up  # also draft admonitions and complaints for overdue requests (the sweep's)
        self.index = NameIndex(database)
        me = profile.load(vault)
        self.country = me.country if me else None
        self.own = registrable(me.email.rpartition("@")[2]) if me and me.email else ""
        self.found = Discovered()

    def read(self, raws: Iterable[bytes]) -> Discovered:
        sightings: dict[str, counterparties.Sighting] = {}
        bought: dict[str, list[tuple[Transaction, str, str]]] = {}
        candidates = awaiting(self.vault)  # read once a batch, again after each reply linked
        for raw in raws:
            reading = read(raw)
            self.found.messages += 1
            self.found.problems += [f"{reading.domain or 'a message'}: {p}" for p in reading.problems]
            if candidates and link_reply(self.vault, self.database, reading, candidates):
                self.found.replies += 1
                candidates = awaiting(self.vault)
                continue
            key = self._key(reading)
            if not key:
                continue
            self.found.transactional += bool(reading.transactions)
            at = reading.date.isoformat(timespec="seconds") if reading.date else ""
            names = [n for n in (reading.organisation, reading.display_name) if n]
            sightings.setdefault(key, counterparties.Sighting()).saw(name=names[0] if names else "",
                                                                     domain=reading.domain, kinds=reading.kinds,
                                                                     at=at)
            for name in names[1:]:
                sightings[key].names.add(name[:120])
            bought.setdefault(key, []).extend((t, reading.message_id, at) for t in reading.transactions)
        self.found.new_counterparties += counterparties.merge(self.vault, sightings, self.database, self.index,
                                                              self.country)
        self.found.counterparties |= set(sightings)
        for key, found in bought.items():
            self.found.new_transactions += transactions.add(self.vault, key, found)
        if self.follow_up:
            self.found.drafted += remind(self.vault, self.database)
        return self.found

    def finish(self, source: MailSource, folder: str) -> Discovered:
        """After a sweep of `folder`: keep the attachments replies were cut off in (`butler.rights.whole`)."""
        self.found.kept_whole += keep_left(self.vault, source, [folder])
        return self.found

    def _key(self, reading: Reading) -> str:
        """The counterparty a message is from: its registrable sender domain, when the mail is transactional or
        the domain is a known company's; personal mail and the person's own domain are no counterparty."""
        if not reading.domain:
            return ""
        key = registrable(reading.domain)
        if key == self.own:
            return ""
        if reading.kinds or key in self.database.by_web:
            return key
        return ""


def discover_source(vault: Vault, database: Database, source: MailSource,
                    folders: list[str] | None = None) -> Discovered:
    """Read every message of a mailbox (all folders but trash, junk, sent and drafts), read-only."""
    reader = MailReader(vault, database)
    names = folders or [f.name for f in source.folders() if not (f.special & _SKIP)]
    for folder in names:
        view = source.view(folder, 0, read_only=True)  # EXAMINE: the server itself keeps the folder unchanged
        for start in range(0, len(view.uids), _BATCH):
            reader.read(m.raw for m in source.fetch(folder, view.uids[start:start + _BATCH]))
    reader.found.kept_whole += keep_left(vault, source, names)
    vault.audit.append("rights.discover", source.account.split(":", 1)[0],
                       {"messages": reader.found.messages, "counterparties": len(reader.found.counterparties)})
    return reader.found
