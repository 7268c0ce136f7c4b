from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from butler.policy import PolicySet, load_policies


@pytest.fixture
def load_text(tmp_path: Path) -> Callable[..., PolicySet]:
    """Write TOML text to a file and load it."""
    counter = iter(range(10_000))

    def load(text: str, name: str | None = None) -> PolicySet:
        path = tmp_path / (name or f"p{next(counter)}.toml")
        path.write_text(text, encoding="utf-8")
        return load_policies([path])

    return load
