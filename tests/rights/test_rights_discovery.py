"""Discovery over a generated mailbox of real brands' domains: each brand found once, matched to its record."""

from __future__ import annotations

from pathlib import Path

from butler.mail import ImapSource
from butler.mail.maildir import MaildirSource
from butler.rights import counterparties, transactions
from butler.rights.database import Database
from butler.rights.discover import discover_source
from butler.vault import Vault
from tests.mail.conftest import IMAP_PASS, Dovecot
from tests.rights.brandmail import brand_messages, brands, write_maildir


def test_a_mailbox_of_over_500_messages_from_62_brands_gives_each_brand_once_matched_to_its_record(
        vault: Vault, db: Database, tmp_path: Path) -> None:
    every = brands(db, known=45, unknown=5, by_mail=6, by_runs=6)
    messages = brand_messages(every, per_brand=9)
    assert len(messages) >= 500 and len({b.domain for b in every}) == len(every) >= 50
    source = MaildirSource(write_maildir(tmp_path / "Maildir", messages))
    before = sorted(p.name for p in (tmp_path / "Maildir" / "cur").iterdir())

    found = discover_source(vault, db, source)

    stored = {c.key: c for c in counterparties.all_counterparties(vault)}
    assert found.messages == len(messages)
    assert sorted(stored) == sorted(b.domain for b in every)  # each brand once, nothing else
    known = [b for b in every if b.slug]
    right = [b for b in known if stored[b.domain].company == b.slug]
    wrong = [(b.domain, b.via, stored[b.domain].company) for b in known if stored[b.domain].company != b.slug]
    unknown_matched = [b.domain for b in every if not b.slug and stored[b.domain].company]
    share = len(right) / len(known)
    by_way = ", ".join(f"{way} {sum(1 for b in right if b.via == way)}/{sum(1 for b in known if b.via == way)}"
                       for way in ("web domain", "e-mail domain", "runs"))
    print(f"\ndiscovery: {len(messages)} messages, {len(every)} brands ({len(known)} in the database), "
          f"{len(stored)} counterparties found, {len(right)}/{len(known)} matched to the right record "
          f"({share:.1%}; by {by_way}), {len(unknown_matched)} of {len(every) - len(known)} unknown brands "
          f"matched to something, {found.new_transactions} transactions")
    assert share >= 0.95, wrong
    assert not unknown_matched
    some = known[0]
    record = stored[some.domain]
    assert record.first_contact < record.last_contact and {"order", "invoice", "newsletter"} <= set(record.kinds)
    bought = transactions.of(vault, some.domain)
    assert {"order", "invoice", "delivery", "reservation"} <= {t["type"] for t in bought}
    assert any(t["number"] == "ORD-00000" and t["total"] == "10.99" and t["currency"] == "EUR" for t in bought)
    assert sorted(p.name for p in (tmp_path / "Maildir" / "cur").iterdir()) == before  # nothing moved or flagged

    again = discover_source(vault, db, source)  # a second run adds nothing
    assert again.new_counterparties == 0 and again.new_transactions == 0


def test_a_correction_sticks_through_the_next_discovery(vault: Vault, db: Database, tmp_path: Path) -> None:
    every = brands(db, known=2, unknown=0)
    source = MaildirSource(write_maildir(tmp_path / "Maildir", brand_messages(every, per_brand=3)))
    discover_source(vault, db, source)
    target = every[0]
    assert counterparties.get(vault, target.domain).company == target.slug  # type: ignore[union-attr]
    counterparties.correct(vault, target.domain, every[1].slug)
    discover_source(vault, db, source)
    after = counterparties.get(vault, target.domain)
    assert after is not None and after.company == every[1].slug and after.quality == "set by you"


def test_discovery_over_imap_opens_folders_read_only(vault: Vault, db: Database, dovecot: Dovecot) -> None:
    """EXAMINE, not SELECT: the server itself keeps every folder unchanged. A SELECT takes \\Recent from new mail,
    which the person's own mail client would have shown as new; after discovery it is still there."""
    every = brands(db, known=3, unknown=0, by_mail=0, by_runs=0)
    dovecot.append(*brand_messages(every, per_brand=2))
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        found = discover_source(vault, db, source, folders=["INBOX"])
    finally:
        source.close()
    client = dovecot.client()
    try:
        info = client.select_folder("INBOX", readonly=True)
    finally:
        client.logout()
    assert found.messages == 6 and info[b"EXISTS"] == 6 and info[b"RECENT"] == 6
