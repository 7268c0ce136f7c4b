"""Negotiations, intents and contracts as the Deals and Contracts screens show them, read from the vault."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from butler.negotiate import contracts, intents
from butler.negotiate.session import negotiation_records
from butler.tui.data.values import as_date, format_money, parse_money, short_time
from butler.tui.data.views import ContractView, ExchangeView, IntentView, NegotiationView
from butler.vault import Vault

__all__ = ["contract_views", "intent_views", "negotiation_views"]


def _offer_words(data: dict[str, Any]) -> str:
    """What was negotiated, as the vendor names the product; its offer id only when nothing else is known."""
    offer = data.get("offer_data")
    product = offer.get("product") if isinstance(offer, dict) else None
    return str(product or data.get("offer", ""))


def negotiation_views(vault: Vault) -> list[NegotiationView]:
    """Every negotiation, newest first, with each offer exchanged and what the agreement saved."""
    records = negotiation_records(vault)
    out = []
    for r in records:
        d = r.data
        exchanges = []
        for x in d.get("exchanges") or []:
            terms = x.get("terms") or {}
            exchanges.append(ExchangeView(
                int(x.get("round", 0)), str(x.get("proposer", "")), str(terms.get("price", "—")),
                str(terms.get("term_months", "—")), str(terms.get("data_use", "—")),
                ", ".join(terms.get("extras") or []) or "—", float(x.get("utility", 0.0))))
        agreed = d.get("agreed") or None
        agreed_price = parse_money(agreed.get("price")) if isinstance(agreed, dict) else None
        opening = next((parse_money(x.get("terms", {}).get("price")) for x in d.get("exchanges") or []
                        if x.get("proposer") == "vendor"), None)
        saving = None
        if agreed_price and opening and agreed_price[1] == opening[1]:
            saving = (opening[0] - agreed_price[0], opening[1])
        out.append(NegotiationView(
            r.id, str(d.get("vendor", "")), _offer_words(d),
            "agreed" if agreed else str(d.get("reason") or "no agreement"),
            format_money(agreed_price), saving, float(d.get("utility", 0.0) or 0.0),
            short_time(d.get("at") or r.updated), exchanges,
            float(d["reserve"]) if isinstance(d.get("reserve"), int | float) else None))
    return sorted(out, key=lambda n: n.at, reverse=True)


def intent_views(vault: Vault) -> list[IntentView]:
    records = intents.records(vault)
    out = []
    for r in records:
        d = r.data
        out.append(IntentView(r.id, str(d.get("description", "")), str(d.get("category", "")),
                              format_money(parse_money(d.get("budget"))), short_time(d.get("deadline")),
                              str(d.get("status", "open"))))
    return out


def contract_views(vault: Vault, deals: list[NegotiationView], today: dt.date) -> list[ContractView]:
    """Contracts by renewal date, each with the best deal the butler agreed for it."""
    records = contracts.all_records(vault)
    out = []
    for r in records:
        d = r.data
        price = parse_money(d.get("price"))
        renewal = as_date(d.get("renewal_date")) or as_date(d.get("end"))
        best_offer, saving = "—", "—"
        vendor, category = str(d.get("vendor_id", "")), str(d.get("category", ""))
        for deal in deals:  # an agreed negotiation for the same vendor beats the current price
            agreed = parse_money(deal.agreed_price)
            if deal.vendor != vendor or agreed is None or price is None or agreed[1] != price[1]:
                continue
            if agreed[0] < price[0] and (best_offer == "—" or agreed[0] < Decimal(best_offer.split()[0])):
                best_offer = format_money(agreed)
                saving = format_money((price[0] - agreed[0], price[1]))
        if best_offer == "—" and isinstance(d.get("best_offer"), dict):
            offer = parse_money(d["best_offer"].get("price"))
            if offer and price and offer[1] == price[1]:
                best_offer = f"{format_money(offer)} {d['best_offer'].get('vendor', '')}".strip()
                saving = format_money((price[0] - offer[0], price[1]))
        period = d.get("period", "month")
        out.append(ContractView(
            r.id, vendor, str(d.get("product", "")), category,
            f"{format_money(price)}/{period}" if period != "once" else format_money(price),
            renewal, (renewal - today).days if renewal else None, bool(d.get("auto_renew")),
            best_offer, saving))
    return sorted(out, key=lambda c: (c.renewal is None, c.renewal or dt.date.max, c.id))
