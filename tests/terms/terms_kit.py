"""Helpers for the MyTerms tests: the example vendor module, loaded from examples/, and a handle on it."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["ROOT", "TERMS_PASSPHRASE", "VendorHandle", "vendor_module"]

ROOT = Path(__file__).resolve().parents[2]
TERMS_PASSPHRASE = "terms test passphrase"


def _load_vendor_module() -> ModuleType:
    name = "myterms_vendor"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / "myterms_vendor.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


vendor_module = _load_vendor_module()



@dataclass
class VendorHandle:
    """The running example vendor: its URL, its vendor key in records, and what it saw."""

    url: str
    app: Any

    @property
    def key(self) -> str:
        return self.url.removeprefix("http://")

    def behave(self, **changes: Any) -> None:
        self.app.state.behaviour = vendor_module.Behaviour(**changes)

    @property
    def seen(self) -> Any:
        return self.app.state.seen
