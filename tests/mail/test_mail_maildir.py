"""Sweeping a local Maildir without any config: moves, flags kept, undo by sweep and by sender, learning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from butler.mail import MaildirSource, MailSettings, MailSweep, UndoFilter, undo_moves
from tests.mail.mailfactory import list_mail, personal, promotion, receipt


def _maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    messages = [promotion("a.example"), promotion("b.example"), receipt("a.example"), personal(), list_mail()]
    for i, raw in enumerate(messages):
        sub, suffix = ("cur", ":2,S") if i % 2 else ("new", "")
        (root / sub / f"1700000{i}.M{i}P1.host{suffix}").write_bytes(raw)
    return root


def _names(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")}


def _sweep(root: Path, **kwargs: object) -> object:
    return MailSweep(MaildirSource(root), MailSettings(), **kwargs).run()  # type: ignore[arg-type]


def test_sweep_moves_promotions_keeping_names_and_flags(tmp_path: Path) -> None:
    root = _maildir(tmp_path / "Maildir")
    before = _names(root)
    report = _sweep(root, dry_run=True)
    assert report.moved["Promotions"] == 2 and _names(root) == before  # type: ignore[attr-defined]
    _sweep(root)
    after = _names(root)
    assert len(after) == len(before)
    assert {n.replace(".Promotions/", "") for n in after} == before  # same file names: same flags, same place
    assert sum(n.startswith(".Promotions/") for n in after) == 2
    assert _sweep(root).moved == {}  # type: ignore[attr-defined]
    assert undo_moves(MaildirSource(root), UndoFilter(last_sweep=True)) == 2
    assert _names(root) == before
    assert _sweep(root).moved == {}  # type: ignore[attr-defined]


def test_moved_back_by_the_person_is_learned(tmp_path: Path) -> None:
    root = _maildir(tmp_path / "Maildir")
    _sweep(root)
    for path in (root / ".Promotions").rglob("*.host*"):
        if b"a.example" in path.read_bytes():
            path.rename(root / path.parent.name / path.name)  # what a mail client does
    (root / "new" / "1800000.M9P1.host").write_bytes(promotion("a.example", subject="Spring sale: 40% off"))
    report = _sweep(root)
    assert any("news@a.example" in line for line in report.learned)  # type: ignore[attr-defined]
    assert sum(1 for _ in (root / ".Promotions").rglob("*.host*")) == 1


def test_undo_by_sender(tmp_path: Path) -> None:
    root = _maildir(tmp_path / "Maildir")
    _sweep(root)
    assert undo_moves(MaildirSource(root), UndoFilter(sender="news@b.example")) == 1
    (root / "new" / "1800001.M9P1.host").write_bytes(promotion("b.example", subject="Another 25% off"))
    _sweep(root)
    assert not any(b"b.example" in p.read_bytes() for p in (root / ".Promotions").rglob("*.host*"))


@pytest.mark.slow
def test_cli_sweep_stats_explain_undo_without_config(tmp_path: Path) -> None:
    root = _maildir(tmp_path / "Maildir")

    def butler(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "butler", "mail", *args], capture_output=True, text=True,
                              check=True, timeout=60).stdout

    assert "would move 2 to Promotions" in butler("sweep", "--dry-run", "--maildir", str(root))
    assert "moved 2 to Promotions" in butler("sweep", "--maildir", str(root))
    assert "moved and still away: 2" in butler("stats", "--maildir", str(root))
    promo = next((root / ".Promotions").rglob("*.host*"))
    explained = butler("explain", "--maildir", str(root), str(promo))
    assert explained.startswith("promotion") and "decision: Promotions" in explained
    assert "restored 2" in butler("undo", "--maildir", str(root))


def test_explain_says_why_a_message_was_moved_and_that_it_came_back(tmp_path: Path) -> None:
    from butler.mail.explain import explain_move
    from butler.mail.message import read_facts

    root = _maildir(tmp_path / "Maildir")
    _sweep(root)
    promo = next((root / ".Promotions").rglob("*.host*"))
    message_id = read_facts(promo.read_bytes()).message_id
    assert message_id
    lines = explain_move(message_id)
    assert lines[0] == f"message {message_id}:"
    assert "to Promotions" in lines[1] and "judged promotion; why: " in lines[3]
    assert len(lines[3]) > len("    judged promotion; why: ") + 5  # a reason, not an empty line
    assert explain_move(message_id.strip("<>"))[1:] == lines[1:]  # with or without the angle brackets
    assert undo_moves(MaildirSource(root), UndoFilter(last_sweep=True)) == 2
    assert "moved back to the inbox by you (undo)" in explain_move(message_id)[-2]
    assert explain_move("<nobody@nowhere>") == []
