"""butler: a customer-side digital butler.

It keeps one person's data in an encrypted vault, applies the terms they proffer and the policies they write,
negotiates with vendors on their behalf and sweeps promotions out of their inbox.
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """`__version__`, read from the installed metadata when first asked for (importlib.metadata costs ~40 ms at
    every start-up otherwise)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("butler")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
