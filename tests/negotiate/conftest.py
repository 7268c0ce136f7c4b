"""Make the bundled connectors and the example vendors importable without installing them."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in [ROOT, *sorted((ROOT / "connectors").glob("*/src"))]:
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
