"""The four example vendors: what they sell, how they negotiate, and who they are (ethics attributes).

Prices come from each vendor's seed, so a vendor is the same every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from examples.vendors.strategies import Issues

__all__ = ["VENDORS", "Product", "VendorSpec", "vendor"]

DATA_USES = ("none", "service", "analytics-first-party", "profiling-first-party", "share-anonymised",
             "share-third-party")


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    period: str  # month | year | once
    issues: Issues
    auto_renew: bool = False
    kwh_unit_price: Decimal | None = None  # energy: price per kWh on top of the standing charge
    shipping: Decimal = Decimal(0)  # charged once per checkout, on top of the price


@dataclass(frozen=True)
class VendorSpec:
    id: str
    name: str
    category: str
    strategy: str
    seed: int
    country: str
    owner: str
    ownership: str  # cooperative | mutual | listed | private-equity | family
    certifications: tuple[str, ...]
    carbon_intensity_g_per_kwh: Decimal | None
    renewable_share: Decimal | None
    myterms_accepted: tuple[str, ...]
    api_key: str
    products: tuple[Product, ...] = field(default=())
    currency: str = "EUR"


def _price(rng: random.Random, base: str) -> Decimal:
    """The base price moved by up to ±8 %, to the cent, from the vendor's seed."""
    return (Decimal(base) * Decimal(str(round(rng.uniform(0.92, 1.08), 4)))).quantize(Decimal("0.01"))


def _product(rng: random.Random, pid: str, name: str, base: str, *, period: str = "month",
             floor: str = "0.8", terms: tuple[int, ...] = (0,), data: tuple[str, ...] = DATA_USES[1:4],
             extras: dict[str, str] | None = None, auto_renew: bool = False, kwh: str | None = None) -> Product:
    list_price = _price(rng, base)
    issues = Issues(list_price, (list_price * Decimal(floor)).quantize(Decimal("0.01")), terms, data,
                    {k: Decimal(v) for k, v in (extras or {}).items()})
    return Product(pid, name, period, issues, auto_renew, Decimal(kwh) if kwh else None)


def _build() -> dict[str, VendorSpec]:
    specs = []
    rng = random.Random(7012)
    specs.append(VendorSpec(
        "voltwise", "Voltwise Energy", "energy", "boulware", 7012, "DE", "Voltwise Energie eG", "cooperative",
        ("EKOenergy", "B Corp"), Decimal("38"), Decimal("1.0"), ("SD-BASE", "PDC-INT"), "voltwise-demo-key",
        (_product(rng, "voltwise-green-12", "Green Fixed 12", "14.90", terms=(0, 12, 24), kwh="0.2890",
                  extras={"smart-meter": "2.00"}, auto_renew=True),
         _product(rng, "voltwise-green-flex", "Green Flex", "9.90", terms=(0, 12), kwh="0.3190",
                  floor="0.85"),
         _product(rng, "voltwise-heat-24", "Heat Pump 24", "19.90", terms=(12, 24), kwh="0.2490",
                  extras={"smart-meter": "2.00", "heat-pump-check": "4.00"}, auto_renew=True)),
    ))
    rng = random.Random(4242)
    specs.append(VendorSpec(
        "parla", "Parla Mobile", "mobile", "conceder", 4242, "DE", "Telco Holdings SE", "listed",
        ("ISO 27001",), None, None, ("SD-BASE",), "parla-demo-key",
        (_product(rng, "parla-5", "Parla 5 GB", "9.99", terms=(0, 12, 24), floor="0.7",
                  data=DATA_USES[1:6], extras={"eu-roaming-plus": "1.50", "esim": "0.00"}, auto_renew=True),
         _product(rng, "parla-20", "Parla 20 GB", "17.99", terms=(0, 12, 24), floor="0.7",
                  data=DATA_USES[1:6], extras={"eu-roaming-plus": "1.50", "multisim": "3.00"}, auto_renew=True),
         _product(rng, "parla-max", "Parla Unlimited", "34.99", terms=(12, 24), floor="0.75",
                  data=DATA_USES[1:6], extras={"multisim": "3.00"}, auto_renew=True)),
    ))
    rng = random.Random(1913)
    specs.append(VendorSpec(
        "shieldly", "Shieldly Insurance", "insurance", "hardliner", 1913, "NL", "Shieldly Onderlinge", "mutual",
        ("ISO 27001", "Fair Insurance Pledge"), None, None, ("SD-BASE", "PDC-INT", "CI-SHARE"), "shieldly-demo-key",
        (_product(rng, "shieldly-contents", "Home Contents Basic", "8.50", terms=(12,), floor="0.9",
                  data=DATA_USES[1:3], extras={"bike-theft": "3.00"}, auto_renew=True),
         _product(rng, "shieldly-contents-plus", "Home Contents Plus", "13.50", terms=(12, 36), floor="0.9",
                  data=DATA_USES[1:3], extras={"bike-theft": "3.00", "glass": "1.20"}, auto_renew=True),
         _product(rng, "shieldly-travel", "Annual Travel", "79.00", period="year", terms=(12,), floor="0.92",
                  data=DATA_USES[1:3])),
    ))
    rng = random.Random(31337)
    specs.append(VendorSpec(
        "hearth", "Hearth & Co", "shop", "tit-for-tat", 31337, "GB", "Hearth Retail Holdings Ltd",
        "private-equity", (), None, None, (), "hearth-demo-key",
        (_product(rng, "hearth-kettle", "Steel Kettle 1.7 l", "39.00", period="once", floor="0.75",
                  data=DATA_USES[1:5], extras={"free-delivery": "4.95", "2y-warranty": "3.00"}),
         _product(rng, "hearth-laptop", "Laptop 14 inch", "849.00", period="once", floor="0.85",
                  data=DATA_USES[1:5], extras={"free-delivery": "0.00", "2y-warranty": "49.00"}),
         _product(rng, "hearth-headphones", "Wireless Headphones", "129.00", period="once", floor="0.7",
                  data=DATA_USES[1:5], extras={"free-delivery": "4.95"})),
        currency="GBP",
    ))
    return {spec.id: spec for spec in specs}


VENDORS: dict[str, VendorSpec] = _build()
"""By id; also reachable by category (`vendor("energy")`)."""


def vendor(name: str) -> VendorSpec:
    """A vendor by id ("voltwise") or by category ("energy", "mobile", "insurance", "shop")."""
    if name in VENDORS:
        return VENDORS[name]
    for spec in VENDORS.values():
        if spec.category == name:
            return spec
    raise KeyError(f"no example vendor {name!r}; choose from {', '.join(VENDORS)} or a category")
