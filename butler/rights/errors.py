"""The data-rights feature's errors (drawn in butler.errors)."""

from __future__ import annotations

from butler.errors import ButlerError

__all__ = ["CompanyNotFound", "DatabaseInvalid", "RightsError"]


class RightsError(ButlerError):
    """A data-rights request or the company database failed."""

    exit_code = 11


class CompanyNotFound(RightsError):
    default_hint = "Try `butler rights list` or another spelling; the company's slug or web domain works too."


class DatabaseInvalid(RightsError):
    default_hint = "The file is not a datenanfragen.de export or butler snapshot; the current database is kept."
