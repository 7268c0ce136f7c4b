"""The terminal UI: `make_app()` for `butler tui` and for the tests."""

from butler.tui.app import ButlerApp, make_app

__all__ = ["ButlerApp", "make_app"]
