"""What the engine answers: a verdict and the reasons for it, each citing the rule and where it is written."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Decision", "Reason", "Verdict"]


class Verdict(StrEnum):
    """Ordered: deny beats ask beats allow."""

    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)

    @classmethod
    def strongest(cls, verdicts: Iterable[Verdict]) -> Verdict:
        return max(verdicts, key=lambda v: v.rank, default=cls.ALLOW)


class Reason(NamedTuple):
    """One rule's say: its id, `file:line`, a plain-language sentence, and the verdict it gave."""

    rule_id: str
    location: str
    text: str
    verdict: Verdict


class Decision(BaseModel):
    """The engine's answer. `reasons` lists every rule that was checked; `fired` those that denied or asked."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    reasons: list[Reason] = Field(default_factory=list)

    @classmethod
    def of(cls, reasons: Iterable[Reason]) -> Decision:
        listed = list(reasons)
        return cls(verdict=Verdict.strongest(r.verdict for r in listed), reasons=listed)

    @property
    def fired(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.verdict is not Verdict.ALLOW)

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW

    def explain(self) -> str:
        """The decision in plain language, one line per rule that fired (or that passed, if none fired)."""
        heading = {
            Verdict.ALLOW: "Allowed.",
            Verdict.ASK: "Ask the person first.",
            Verdict.DENY: "Denied.",
        }[self.verdict]
        shown = self.fired or self.reasons
        lines = [heading]
        lines += [f"  [{r.verdict}] {r.rule_id} ({r.location}): {r.text}" for r in shown]
        return "\n".join(lines)
