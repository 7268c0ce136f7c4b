"""A plaintext-file keyring backend, standing in for `keyrings.alt`'s: the kind butler must never pick."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend


def store_path() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "python_keyring" / "plaintext.json"


class PlaintextFileKeyring(KeyringBackend):
    priority = 0.5  # what keyrings.alt gives its plaintext keyring

    def get_password(self, service: str, username: str) -> str | None:
        path = store_path()
        data = json.loads(path.read_text()) if path.exists() else {}
        return data.get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        path = store_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.loads(path.read_text()) if path.exists() else {}
        data[f"{service}/{username}"] = password
        path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        path = store_path()
        data = json.loads(path.read_text()) if path.exists() else {}
        data.pop(f"{service}/{username}", None)
        path.write_text(json.dumps(data))
