"""Home: what the butler did since you last looked, what waits for you, the next sweeps, the vault."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.containers import Grid
from textual.content import Content
from textual.widget import Widget

from butler.tui.data import Dashboard, VaultReader
from butler.tui.screens.base import ButlerScreen
from butler.tui.widgets import Panel

__all__ = ["HomeScreen"]


class HomeScreen(ButlerScreen):
    PLACE: ClassVar[str] = "home"

    def body(self) -> Iterable[Widget]:
        with Grid(id="home-grid"):
            yield Panel("Since you last looked", id="activity")
            yield Panel("Waiting for you", id="waiting")
            yield Panel("Next sweeps", id="sweeps")
            yield Panel("Vault", id="vault-status")

    def load(self) -> None:
        seen = self.butler.seen_seq

        def read(reader: VaultReader) -> Dashboard:
            return reader.dashboard(seen)

        self.fetch(read, self.show)

    def show(self, d: Dashboard) -> None:
        self.butler.set_pending(d.pending)
        self.butler.head_seq = max(self.butler.head_seq, d.head_seq)
        if d.activity:
            lines = [Content.from_markup("• $line", line=line) for line in d.activity]
        else:
            lines = [Content("Nothing new: the butler has been quiet.")]
        self.query_one("#activity", Panel).update(Content("\n").join(lines))
        if d.pending:
            kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(d.pending_kinds.items()))
            waiting = Content.from_markup(
                "[$warning b]$n item$s[/] wait for your decision\n$kinds\n[dim]press [b]2[/b] to decide[/dim]",
                n=str(d.pending), s="s" if d.pending != 1 else "", kinds=kinds)
        else:
            waiting = Content.from_markup("[$success]Nothing waits for you.[/]")
        self.query_one("#waiting", Panel).update(waiting)
        if d.daemon.jobs:
            rows = [Content.from_markup("$h", h=d.daemon.headline)]
            rows += [Content.from_markup("[b]$name[/b] next $next [dim](last $last $result)[/dim]",
                                         name=j.name, next=j.next_run, last=j.last_run, result=j.result)
                     for j in d.daemon.jobs]
            sweeps = Content("\n").join(rows)
        else:
            sweeps = Content.from_markup("[$warning]$h[/]\n[dim]see [b]butler daemon --help[/b][/dim]"
                                         if not d.daemon.running else "$h", h=d.daemon.headline)
        self.query_one("#sweeps", Panel).update(sweeps)
        audit = "[$success]$audit[/]" if d.audit_ok else "[$error b]$audit[/]"
        self.query_one("#vault-status", Panel).update(Content.from_markup(
            f"$records records in $collections collections · $keyring\n{audit}",
            records=str(d.records), collections=str(d.collections), keyring=d.keyring, audit=d.audit_note))
