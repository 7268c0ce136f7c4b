"""What the engine may know besides the subject; the caller gathers it, the engine never reads files or clocks."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field

from butler.models import Money, Vendor

__all__ = ["EvalContext"]


class EvalContext(BaseModel):
    """Facts for one evaluation.

    `spent_this_month` is needed by monthly budgets (without it they ask); `vendors` lets rules about owners,
    brands and certifications see the vendor behind an offer.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    spent_this_month: Money | None = None
    vendors: Mapping[str, Vendor] = Field(default_factory=lambda: MappingProxyType({}))

    def vendor(self, vendor_id: str | None) -> Vendor | None:
        return self.vendors.get(vendor_id) if vendor_id else None
