"""Home: what the butler did this week (with sparklines), what waits for you, what happened since you last looked,
the daemon's next runs and last failures, and the vault's freshness."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from butler.tui.data import DaemonView, Dashboard, VaultReader
from butler.tui.data.week import WeekView
from butler.tui.screens.base import ButlerScreen
from butler.tui.widgets import Panel

__all__ = ["HomeScreen"]

# row id, words, what it counts
WEEK_ROWS: tuple[tuple[str, str], ...] = (
    ("moved", "Mail moved"),
    ("bought", "Bought"),
    ("saved", "Saved"),
    ("refused", "Refused"),
)
BAR_CELLS = 2  # each day is this many cells wide in a sparkline


class HomeScreen(ButlerScreen):
    PLACE: ClassVar[str] = "home"

    def body(self) -> Iterable[Widget]:
        with Horizontal(id="home-top"):
            with Vertical(classes="home-column"):
                with Vertical(id="week") as week:
                    week.border_title = "This week"
                    for row, words in WEEK_ROWS:
                        with Horizontal(classes="week-row"):
                            yield Static(words, id=f"week-{row}", classes="week-label")
                            yield Sparkline([], id=f"spark-{row}", summary_function=max)
                yield Panel("Since you last looked", id="activity")
            with Vertical(classes="home-column"):
                yield Panel("Waiting for you", id="waiting")
                yield Panel("Next runs and last failures", id="sweeps")
        yield Panel("Vault", id="vault-status")

    def load(self) -> None:
        seen = self.butler.seen_seq

        def read(reader: VaultReader) -> Dashboard:
            return reader.dashboard(seen)

        self.fetch(read, self.show)

    def show(self, d: Dashboard) -> None:
        self.butler.set_pending(d.pending)
        self.butler.head_seq = max(self.butler.head_seq, d.head_seq)
        if d.week is not None:
            self.show_week(d.week)
        if d.activity:
            lines = [Content.from_markup("• $line", line=line) for line in d.activity]
        else:
            lines = [Content("Nothing new: the butler has been quiet.")]
        if d.recent:
            lines.append(Content.from_markup("\n[b]Latest[/b]"))
            lines += [Content.from_markup("[dim]$when[/dim]  $what", when=when, what=what) for when, what in d.recent]
        self.query_one("#activity", Panel).update(Content("\n").join(lines))
        if d.pending:
            rows = [Content.from_markup("[$warning b]$n item$s[/] wait for your decision", n=str(d.pending),
                                        s="s" if d.pending != 1 else "")]
            rows += [Content.from_markup("• $what", what=what) for what in d.waiting]
            rows.append(Content.from_markup("[dim]press [b]2[/b] to decide[/dim]"))
            waiting = Content("\n").join(rows)
        else:
            waiting = Content.from_markup("[$success]Nothing waits for you.[/]")
        self.query_one("#waiting", Panel).update(waiting)
        self.query_one("#sweeps", Panel).update(daemon_lines(d.daemon))
        audit = "[$success]$audit[/]" if d.audit_ok else "[$error b]$audit[/]"
        self.query_one("#vault-status", Panel).update(Content.from_markup(
            f"$records records in $collections collections · $keyring\n{audit} · last change $last · the files "
            "agree with their freshness anchor (checked on opening)",
            records=str(d.records), collections=str(d.collections), keyring=d.keyring, audit=d.audit_note,
            last=d.last_change))

    def show_week(self, week: WeekView) -> None:
        totals = {"moved": f"{week.total('moved')}", "bought": f"{week.total('bought')}",
                  "saved": week.saved_total, "refused": f"{week.total('refused')}"}
        for row, words in WEEK_ROWS:
            self.query_one(f"#week-{row}", Static).update(Content.from_markup(
                "$words [b]$total[/b]", words=words, total=totals[row]))
            values: tuple[float, ...] = getattr(week, row)
            self.query_one(f"#spark-{row}", Sparkline).data = [float(v) for v in values for _ in range(BAR_CELLS)]


def daemon_lines(daemon: DaemonView) -> Content:
    """The daemon's jobs: when each runs next and how its last run went; failing ones first, with the error."""
    if not daemon.jobs:
        if daemon.running:
            return Content(daemon.headline)
        return Content.from_markup("[$warning]$h[/]\n[dim]start it with [b]butler daemon[/b] (see --help)[/dim]",
                                   h=daemon.headline)
    rows = [Content.from_markup("[$warning]$h[/]" if not daemon.running else "$h", h=daemon.headline)]
    for j in sorted(daemon.jobs, key=lambda j: (not j.failures, j.name)):
        took = f", {j.duration}" if j.duration else ""
        rows.append(Content.from_markup("[b]$name[/b] next $next [dim](last $last: $result$took)[/dim]",
                                        name=j.name, next=j.next_run, last=j.last_run, result=j.result or "—",
                                        took=took))
        if j.failures:
            rows.append(Content.from_markup("  [$error]✗ failed $n time(s) in a row since $since: $error[/]",
                                            n=str(j.failures), since=j.failing_since or "—",
                                            error=j.error or "no error text"))
    return Content("\n").join(rows)
