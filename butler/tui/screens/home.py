"""Home: what the butler did this week (with sparklines), what waits for you, what happened since you last looked,
the daemon's next runs and last failures, and the vault's freshness."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from butler.tui.data import AuditSummary, DaemonView, Dashboard
from butler.tui.data.week import WeekView
from butler.tui.screens.approvals import kind_words
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

    def __init__(self) -> None:
        super().__init__()
        self.vault_line = Content("")
        self.pending = 0

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
        self.fetch(lambda reader: reader.dashboard(), self.show)

    def show(self, d: Dashboard) -> None:
        """What Home shows at once; the audit log is read next, in its own worker."""
        self.butler.set_pending(d.pending)
        self.pending = d.pending
        if d.pending:
            kinds = ", ".join(f"{n} {kind_words(kind).lower()}" for kind, n in sorted(d.pending_kinds.items()))
            self.query_one("#waiting", Panel).update(Content("\n").join([
                self._waiting_headline(), Content(kinds),
                Content.from_markup("[dim]press [b]2[/b] to decide[/dim]")]))
        else:
            self.query_one("#waiting", Panel).update(Content.from_markup("[$success]Nothing waits for you.[/]"))
        self.query_one("#sweeps", Panel).update(daemon_lines(d.daemon))
        self.vault_line = Content.from_markup(
            "$records records in $collections collections · $keyring\nlast change $last · ",
            records=str(d.records), collections=str(d.collections), keyring=d.keyring, last=d.last_change)
        self.query_one("#vault-status", Panel).update(self.vault_line + Content("checking the audit log…"))
        seen = self.butler.seen_seq
        # the frame with what is read so far is drawn first; the slower read follows
        self.call_after_refresh(self.fetch_more, lambda reader: reader.home_details(seen), self.show_audit)

    def _waiting_headline(self) -> Content:
        return Content.from_markup("[$warning b]$n item$s[/] wait for your decision", n=str(self.pending),
                                   s="s" if self.pending != 1 else "")

    def show_audit(self, a: AuditSummary) -> None:
        self.butler.head_seq = max(self.butler.head_seq, a.head_seq)
        if self.pending and a.waiting:
            self.query_one("#waiting", Panel).update(Content("\n").join([
                self._waiting_headline(), *(Content.from_markup("• $what", what=what) for what in a.waiting),
                Content.from_markup("[dim]press [b]2[/b] to decide[/dim]")]))
        if a.week is not None:
            self.show_week(a.week)
        if a.activity:
            lines = [Content.from_markup("• $line", line=line) for line in a.activity]
        else:
            lines = [Content("Nothing new: the butler has been quiet.")]
        if a.recent:
            lines.append(Content.from_markup("\n[b]Latest[/b]"))
            lines += [Content.from_markup("[dim]$when[/dim]  $what", when=when, what=what) for when, what in a.recent]
        self.query_one("#activity", Panel).update(Content("\n").join(lines))
        audit = "[$success]$audit[/]" if a.audit_ok else "[$error b]$audit[/]"
        self.query_one("#vault-status", Panel).update(self.vault_line + Content.from_markup(
            f"{audit} · the newest copy (its freshness anchor agrees)", audit=a.audit_note))

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
