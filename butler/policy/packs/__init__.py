"""The policy packs butler ships: example policy files a person starts from (`butler init --pack NAME`).

Each pack is a `NAME.toml` beside this module with a `[pack]` table giving its name and a one-line description.
They are package data, so an installed butler has them as well as a source checkout.
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from butler.errors import UsageError

__all__ = ["Pack", "install_packs", "pack_dir", "packs"]


@dataclass(frozen=True)
class Pack:
    name: str  # the file name without .toml: what `--pack` takes
    title: str
    description: str
    path: Path


def pack_dir() -> Path:
    """The folder holding the shipped packs."""
    return Path(__file__).resolve().parent


def packs() -> list[Pack]:
    """Every shipped pack, by name."""
    found = []
    for path in sorted(pack_dir().glob("*.toml")):
        info = tomllib.loads(path.read_text(encoding="utf-8")).get("pack", {})
        found.append(Pack(path.stem, str(info.get("name") or path.stem), str(info.get("description") or ""), path))
    return found


def install_packs(names: list[str], policies: Path) -> tuple[list[Path], list[Path]]:
    """Copy the packs `names` into the folder `policies` (created 0700; files 0600). A file already there is left
    as it is (the person may have edited it). Returns (copied, kept). UsageError names an unknown pack."""
    known = {pack.name: pack for pack in packs()}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(f"no policy pack named {', '.join(unknown)}", f"The packs are: {', '.join(known)}.")
    from butler.paths import private_dir

    private_dir(policies)
    copied: list[Path] = []
    kept: list[Path] = []
    for name in dict.fromkeys(names):
        target = policies / f"{name}.toml"
        if target.exists():
            kept.append(target)
            continue
        shutil.copyfile(known[name].path, target)
        target.chmod(0o600)
        copied.append(target)
    return copied, kept
