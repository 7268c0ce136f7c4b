"""Butler connector for the example vendors (`python -m examples.vendors NAME`): one vendor per base URL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from butler.sdk import (
    Capability,
    CheckoutLine,
    CheckoutQuote,
    Connector,
    Contract,
    DataRequestReceipt,
    DataUse,
    FatalError,
    Manifest,
    Money,
    NegotiationRound,
    Offer,
    OfferQuery,
    Purchase,
    SecretSpec,
    Terms,
)

__all__ = ["ExampleVendorConnector", "ExampleVendorSettings"]


def _money(wire: Any) -> Money | None:
    return Money.model_validate(wire) if wire is not None else None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


class ExampleVendorSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(default="http://127.0.0.1:8101", description="where the example vendor runs")
    max_rounds: int = Field(default=8, ge=2, le=20, description="negotiation rounds to ask for")


class ExampleVendorConnector(Connector):
    manifest = Manifest.build(
        id="example-vendors",
        name="Example vendors",
        version="0.1.0",
        description="The example energy supplier, mobile carrier, insurer and shop, running on this machine.",
        categories=("energy", "mobile", "insurance", "shop"),
        capabilities=frozenset(Capability),
        allowed_hosts=("127.0.0.1",),
        secrets=(SecretSpec(name="api_key", description="printed by `python -m examples.vendors NAME`"),),
        settings=ExampleVendorSettings,
    )

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ctx.secrets.get('api_key')}"}

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self.ctx.json(method, path, headers=self._auth(), **kwargs)

    async def validate(self) -> None:
        about = await self._call("GET", "/v1/vendor")
        if not isinstance(about, dict) or "id" not in about:
            raise FatalError("this does not look like an example vendor (no vendor id at /v1/vendor)")
        self.ctx.log.info("validated %s", about["id"])

    async def list_offers(self, query: OfferQuery) -> list[Offer]:
        params: dict[str, str] = {}
        if query.category:
            params["category"] = query.category
        if query.kwh_per_year is not None:
            params["kwh_per_year"] = str(query.kwh_per_year)
        answer = await self._call("GET", "/v1/offers", params=params)
        offers = [self._offer(answer["vendor_id"], wire) for wire in answer["offers"]]
        return query.within_max_price(offers)

    @staticmethod
    def _offer(vendor_id: str, wire: dict[str, Any]) -> Offer:
        def dec(value: Any) -> Decimal | None:
            return Decimal(value) if value is not None else None
        return Offer(
            id=wire["id"], vendor_id=vendor_id, product=wire["product"], category=wire["category"],
            price=Money.model_validate(wire["price"]), period=wire["period"], term_months=wire["term_months"],
            auto_renew=wire["auto_renew"], data_use=DataUse(wire["data_use"]), myterms=wire.get("myterms"),
            certifications=tuple(wire.get("certifications", ())),
            carbon_intensity_g_per_kwh=dec(wire.get("carbon_intensity_g_per_kwh")),
            renewable_share=dec(wire.get("renewable_share")), extras=tuple(wire.get("extras_available", ())),
            attributes={"term_options": wire.get("term_options", []),
                        "data_use_options": wire.get("data_use_options", [])},
            expires_at=dt.datetime.fromisoformat(wire["expires_at"]) if wire.get("expires_at") else None,
        )

    @staticmethod
    def _terms(wire: dict[str, Any]) -> Terms:
        return Terms(price=Money.model_validate(wire["price"]), term_months=wire["term_months"],
                     data_use=DataUse(wire["data_use"]), extras=tuple(wire["extras"]))

    def _round(self, session: dict[str, Any]) -> NegotiationRound:
        last = session["offers"][-1]
        status = session["status"]
        terms = self._terms(session["agreed_terms"]) if status == "accepted" else self._terms(last["terms"])
        return NegotiationRound(
            session_id=session["id"], offer_id=session["offer_id"], round=last["round"],
            proposer=last["proposer"], terms=terms, status=status,
            max_rounds=session["constraints"]["max_rounds"],
            deadline=dt.datetime.fromisoformat(session["constraints"]["deadline"]),
            expires_at=dt.datetime.fromisoformat(last["expires_at"]))

    async def negotiate(self, offer_id: str, proposal: Terms | None = None, *,
                        session_id: str | None = None) -> NegotiationRound:
        if session_id is None:
            body = {"offer_id": offer_id, "constraints": {"max_rounds": self.settings_model.max_rounds}}
            session = await self._call("POST", "/v1/negotiations", json=body, offer_id=offer_id)
            if proposal is None:
                return self._round(session)
            session_id = session["id"]
        current = await self._call("GET", f"/v1/negotiations/{session_id}")
        next_round = current["offers"][-1]["round"] + 1
        if proposal is None:
            session = await self._call("POST", f"/v1/negotiations/{session_id}/accept",
                                       json={"round": next_round - 1})
        else:
            terms = {"price": proposal.price.model_dump(mode="json"), "term_months": proposal.term_months,
                     "data_use": proposal.data_use.value, "extras": list(proposal.extras)}
            session = await self._call("POST", f"/v1/negotiations/{session_id}/offers",
                                       json={"round": next_round, "proposer": "buyer", "terms": terms})
        return self._round(session)

    @property
    def settings_model(self) -> ExampleVendorSettings:
        assert isinstance(self.settings, ExampleVendorSettings)
        return self.settings

    async def prepare_checkout(self, offer_id: str, *, idempotency_key: str,
                               session_id: str | None = None) -> CheckoutQuote:
        body: dict[str, Any] = {"offer_id": offer_id}
        if session_id is not None:
            body["negotiation_id"] = session_id
        wire = await self._call("POST", "/v1/checkouts", json=body, offer_id=offer_id,
                                idempotency_key=idempotency_key)
        return self._quote(wire)

    def _quote(self, wire: Any) -> CheckoutQuote:
        if not isinstance(wire, dict):
            raise FatalError("the vendor's checkout is not a JSON object")
        try:
            return CheckoutQuote(
                checkout_id=wire["id"], offer_id=wire["offer_id"],
                lines=tuple(CheckoutLine(item=line["item"], description=line.get("description", ""),
                                         quantity=line.get("quantity", 1), amount=Money.model_validate(line["amount"]))
                            for line in wire["lines"]),
                shipping=_money(wire.get("shipping")), tax=_money(wire.get("tax")), fees=_money(wire.get("fees")),
                total=Money.model_validate(wire["total"]),
                terms=self._terms(wire["terms"]) if wire.get("terms") else None,
                expires_at=dt.datetime.fromisoformat(wire["expires_at"]) if wire.get("expires_at") else None)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise FatalError(f"the vendor's checkout is malformed: {_first_line(exc)}") from None

    async def pay(self, quote: CheckoutQuote, *, idempotency_key: str) -> Purchase:
        order = await self._call("POST", f"/v1/checkouts/{quote.checkout_id}/pay",
                                 json={"amount": quote.total.model_dump(mode="json")},
                                 idempotency_key=idempotency_key)
        return self._purchase(order)

    def _purchase(self, order: Any) -> Purchase:
        if not isinstance(order, dict):
            raise FatalError("the vendor's order is not a JSON object")
        try:
            return Purchase(id=order["id"], vendor_id=order["vendor_id"], offer_id=order["offer_id"],
                            items=(order["offer_id"],), total=Money.model_validate(order["total"]),
                            at=dt.datetime.fromisoformat(order["created_at"]),
                            receipt={"contract_id": order.get("contract_id"), "terms": order.get("terms"),
                                     "checkout_id": order.get("checkout_id")})
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise FatalError(f"the vendor's order is malformed: {_first_line(exc)}") from None

    async def abandon_checkout(self, quote: CheckoutQuote, *, idempotency_key: str) -> None:
        await self._call("POST", f"/v1/checkouts/{quote.checkout_id}/cancel", json={},
                         idempotency_key=idempotency_key)

    async def find_order(self, quote: CheckoutQuote) -> Purchase | None:
        answer = await self._call("GET", "/v1/orders", params={"checkout_id": quote.checkout_id})
        orders = answer.get("orders") if isinstance(answer, dict) else None
        if not isinstance(orders, list):
            raise FatalError("the vendor's order list is malformed")
        return self._purchase(orders[0]) if orders else None

    @staticmethod
    def _contract(wire: dict[str, Any]) -> Contract:
        def day(value: str | None) -> dt.date | None:
            return dt.date.fromisoformat(value) if value else None
        return Contract(id=wire["id"], vendor_id=wire["vendor_id"], product=wire["product"],
                        category=wire["category"], price=Money.model_validate(wire["price"]), period=wire["period"],
                        term_months=wire["term_months"], start=dt.date.fromisoformat(wire["start"]),
                        end=day(wire["end"]), renewal_date=day(wire["renewal_date"]), auto_renew=wire["auto_renew"])

    async def contract_status(self, contract_id: str) -> Contract:
        return self._contract(await self._call("GET", f"/v1/contracts/{contract_id}"))

    async def renew(self, contract_id: str, *, idempotency_key: str, term_months: int | None = None) -> Contract:
        wire = await self._call("POST", f"/v1/contracts/{contract_id}/renew", json={"term_months": term_months},
                                idempotency_key=idempotency_key)
        return self._contract(wire)

    async def cancel(self, contract_id: str, *, idempotency_key: str) -> Contract:
        wire = await self._call("POST", f"/v1/contracts/{contract_id}/cancel", json={},
                                idempotency_key=idempotency_key)
        return self._contract(wire)

    async def data_request(self, kind: Literal["access", "delete", "portability", "object"], *,
                           idempotency_key: str) -> DataRequestReceipt:
        wire = await self._call("POST", "/v1/data-requests", json={"kind": kind}, idempotency_key=idempotency_key)
        return DataRequestReceipt(id=wire["id"], vendor_id=wire["vendor_id"], kind=wire["kind"],
                                  status=wire["status"], received_at=dt.datetime.fromisoformat(wire["received_at"]),
                                  due_by=dt.date.fromisoformat(wire["due_by"]))
