"""The declared public surface of butler.policy matches what the modules export."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import butler.policy


def test_all_names_exist_and_are_public() -> None:
    for info in pkgutil.iter_modules(butler.policy.__path__, "butler.policy."):
        module = importlib.import_module(info.name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{info.name} declares no __all__"
        for name in exported:
            assert hasattr(module, name), f"{info.name}.{name}"


def test_package_surface() -> None:
    # identifiers only: pytest's assertion rewriting adds "@py_builtins" to modules it rewrites
    public = {name for name in vars(butler.policy) if name.isidentifier() and not name.startswith("_")}
    modules = {info.name for info in pkgutil.iter_modules(butler.policy.__path__)}
    assert set(butler.policy.__all__) == public - modules - {"annotations"}


def test_engine_imports_no_io_or_cli() -> None:
    code = (
        "import sys, butler.policy.engine, butler.policy.utility;"
        "bad = [m for m in ('argparse', 'butler.paths', 'butler.cli', 'butler.policy.commands') if m in sys.modules];"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
