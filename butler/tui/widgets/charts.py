"""Small charts drawn by a maintained plotting widget (textual-plotext): a negotiation's rounds against the
reserve, renewals month by month, savings year by year. Imported only by the screens that show them."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import RenderResult
from textual_plotext import PlotextPlot

from butler.tui.data import NegotiationView

__all__ = ["BarChart", "RoundsChart"]


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())[:40]


class RoundsChart(PlotextPlot):
    """Each offer's value to you, round by round: the vendor's offers, your counter-offers, and the reserve below
    which butler walks away."""

    def show(self, deal: NegotiationView | None) -> None:
        plt = self.plt
        plt.clear_figure()
        if deal is None or not deal.exchanges:
            plt.title("No offers exchanged yet")
            self.refresh()
            return
        vendor = _printable(deal.vendor)  # the plot is drawn as ANSI text: no control characters from a vendor
        plt.title(f"Offers with {vendor}: value to you by round")
        for proposer, label, marker in (("vendor", vendor, "dot"), ("buyer", "you", "x")):
            rounds = [x.round for x in deal.exchanges if x.proposer == proposer]
            if rounds:
                plt.plot(rounds, [x.utility for x in deal.exchanges if x.proposer == proposer],
                         label=label, marker=marker)
        rounds = sorted({x.round for x in deal.exchanges})
        if deal.reserve is not None:
            plt.plot(rounds, [deal.reserve] * len(rounds), label="walk-away", color="red", marker="-")
        plt.ylim(0, 1)
        plt.xticks([float(r) for r in rounds])
        plt.xlabel("round")
        self.refresh()


class BarChart(PlotextPlot):
    """Labelled bars with a title; `show` replaces what is drawn. Labels are thinned to the room there is, always
    the same ones for the same width (plotext's own choice varies from run to run)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._bars: tuple[str, list[str], list[float], str] = ("", [], [], "")

    def show(self, title: str, labels: Sequence[str], values: Sequence[float], empty: str) -> None:
        self._bars = (title, list(labels), list(values), empty)
        self.refresh()

    def render(self) -> RenderResult:
        title, labels, values, empty = self._bars
        plt = self.plt
        plt.clear_figure()
        if not any(values):
            plt.title(empty)
        else:
            plt.title(title)
            positions = [float(i + 1) for i in range(len(labels))]
            plt.bar(positions, values, width=0.6)
            widest = max(len(label) for label in labels) + 2
            step = max(1, -(-widest * len(labels) // max(self.size.width - 8, 1)))
            plt.xticks(positions[::step], labels[::step])
        return super().render()
