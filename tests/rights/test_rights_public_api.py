"""Each module of butler.rights declares its public surface: `__all__` names what it defines, and nothing more."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import butler.rights

MODULES = sorted(m.name for m in pkgutil.iter_modules(butler.rights.__path__, "butler.rights."))


@pytest.mark.parametrize("name", MODULES)
def test_all_is_the_public_functions_and_classes_the_module_defines(name: str) -> None:
    module = importlib.import_module(name)
    declared = set(module.__all__)
    assert all(hasattr(module, n) for n in declared), name
    defined = {n for n, obj in vars(module).items() if not n.startswith("_")
               and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == name}
    assert defined <= declared, sorted(defined - declared)
