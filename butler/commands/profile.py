"""`butler profile show|set`: who butler buys for (name, e-mail, delivery address, currency), kept in the vault."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import ValidationError

from butler.commands.common import unlock
from butler.errors import UsageError
from butler.models import PostalAddress, Profile

__all__ = ["add_parser", "profile_lines"]

# option → field of the delivery address
ADDRESS_OPTIONS = {"street": "street_address", "street2": "extended_address", "city": "address_locality",
                   "region": "address_region", "postal_code": "postal_code", "country": "address_country"}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("profile", help="who butler buys for: name, e-mail, delivery address",
                                   description="Your name, e-mail and delivery address, kept in the vault. Shops get "
                                               "only what their connector declares it needs, when butler buys.")
    sub = parser.add_subparsers(dest="profile_command", metavar="ACTION", required=True)
    sub.add_parser("show", help="what butler knows about you").set_defaults(func=show)
    s = sub.add_parser("set", help="change some of it (what you leave out stays as it is)")
    s.add_argument("--name", help="your name as shops should write it")
    s.add_argument("--email", help="the e-mail address shops send receipts to")
    s.add_argument("--currency", help="the currency you pay in, like EUR or USD")
    s.add_argument("--street", help="delivery address: street and number")
    s.add_argument("--street2", help="delivery address: flat, floor, c/o (optional)")
    s.add_argument("--city", help="delivery address: city or town")
    s.add_argument("--region", help="delivery address: state, province or county, where the country has them")
    s.add_argument("--postal-code", help="delivery address: postal code")
    s.add_argument("--country", help="delivery address: two-letter country code, like US or DE")
    s.add_argument("--no-address", action="store_true", help="forget the delivery address")
    s.set_defaults(func=set_profile)


def profile_lines(me: Profile | None) -> list[str]:
    """The profile as `butler profile show` prints it."""
    if me is None:
        return ["no profile yet: set one with `butler profile set --name … --email … --street … --city … "
                "--postal-code … --country …`"]
    return [f"name      {me.name}", f"e-mail    {me.email or '(not set)'}",
            f"address   {me.address.one_line() if me.address else '(not set)'}",
            f"currency  {me.currency}"]


def show(args: argparse.Namespace) -> int:
    from butler import profile

    with unlock(quiet=True).vault as vault:
        print("\n".join(profile_lines(profile.load(vault))))
    return 0


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors())


def _address(args: argparse.Namespace, current: PostalAddress | None) -> PostalAddress | None:
    given = {field: getattr(args, option) for option, field in ADDRESS_OPTIONS.items()
             if getattr(args, option) is not None}
    if args.no_address:
        if given:
            raise UsageError("--no-address cannot be given with address options")
        return None
    if not given:
        return current
    merged: dict[str, Any] = {**(current.model_dump() if current else {}), **given}
    try:
        return PostalAddress.model_validate({k: (v or None) if k in ("extended_address", "address_region") else v
                                             for k, v in merged.items()})
    except ValidationError as exc:
        missing = [option.replace("_", "-") for option, field in ADDRESS_OPTIONS.items()
                   if field not in merged and PostalAddress.model_fields[field].is_required()]
        hint = f"Give also --{', --'.join(missing)}." if missing else "See `butler profile set --help`."
        raise UsageError(f"not a usable address: {_problems(exc)}", hint) from None


def set_profile(args: argparse.Namespace) -> int:
    from butler import profile

    with unlock(quiet=True).vault as vault:
        current = profile.load(vault)
        data: dict[str, Any] = current.model_dump() if current is not None else {}
        for name in ("name", "email", "currency"):
            value = getattr(args, name)
            if value is not None:
                data[name] = value.strip() or None
        if not data.get("name"):
            raise UsageError("butler needs your name first", "Give --name \"Your Name\".")
        if data.get("email") is not None and "@" not in str(data["email"]):
            raise UsageError(f"not an e-mail address: {data['email']!r}")
        address = _address(args, current.address if current else None)
        data["address"] = address
        if address is not None and not data.get("country"):
            data["country"] = address.address_country
        if data.get("currency") is None:
            data.pop("currency", None)
        try:
            me = Profile.model_validate(data)
        except ValidationError as exc:
            raise UsageError(f"not a usable profile: {_problems(exc)}") from None
        profile.save(vault, me)
    print("\n".join(profile_lines(me)))
    return 0
