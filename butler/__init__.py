"""butler: a customer-side digital butler.

It keeps one person's data in an encrypted vault, applies the terms they proffer and the policies they write,
negotiates with vendors on their behalf and sweeps promotions out of their inbox.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("butler")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
