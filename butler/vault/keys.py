"""Where the vault key comes from: the OS keyring, a passphrase file, or the person at the terminal.

The keyring backend is chosen explicitly (Secret Service on Linux, Keychain on macOS, Credential Locker on
Windows) so that a plaintext fallback can never be picked silently. The keyring holds the data key itself, so
background sweeps can open the vault unattended; the passphrase only unwraps it from `vault.key`.
Keyring access is serialised by a file lock and bounded by a deadline: headless keyring daemons misbehave
under concurrent clients, and a sweep must never wait on a desktop unlock prompt.
"""

from __future__ import annotations

import base64
import fcntl
import getpass
import logging
import os
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from butler import paths
from butler.config import VaultConfig, load_config
from butler.errors import KeyringError, VaultCorrupt, VaultLocked
from butler.log import register_secret
from butler.vault import crypto
from butler.vault.framelog import header_key_id, staging_path
from butler.vault.freshness import AnchorStore, FileAnchors, KeyringAnchors
from butler.vault.keyfile import KeyFile
from butler.vault.store import AnchorFactory, Vault

__all__ = [
    "ENV_KEYRING",
    "ENV_PASSPHRASE_FILE",
    "KeyringStore",
    "Unlocked",
    "anchor_factory",
    "keyring_store",
    "open_vault",
    "read_passphrase_file",
    "vault_settings",
]

log = logging.getLogger(__name__)

ENV_PASSPHRASE_FILE = "BUTLER_PASSPHRASE_FILE"
ENV_KEYRING = "BUTLER_KEYRING"  # auto | secretservice | macos | windows | none
SERVICE = "butler"
KEYRING_DEADLINE = 10.0


def _backend(name: str) -> Any:
    """Construct the named backend; raise KeyringError if it cannot work here."""
    try:
        if name == "secretservice":
            from keyring.backends import SecretService

            backend: Any = SecretService.Keyring()  # type: ignore[no-untyped-call]
        elif name == "macos":
            from keyring.backends import macOS

            backend = macOS.Keyring()  # type: ignore[no-untyped-call]
        elif name == "windows":
            from keyring.backends import Windows

            backend = Windows.WinVaultKeyring()  # type: ignore[no-untyped-call]
        else:
            raise KeyringError(f"unknown keyring backend {name!r}", "Use auto, secretservice, macos, windows or none.")
        _ = backend.priority  # raises where the service is unreachable (no D-Bus session, …)
    except KeyringError:
        raise
    except Exception as exc:
        raise KeyringError(f"the {name} keyring is not available: {type(exc).__name__}") from None
    return backend


class KeyringStore:
    """The data key in the OS keyring, under service `butler` and the vault's id."""

    def __init__(self, backend: Any, home: Path) -> None:
        self.backend = backend
        self.home = home
        self.name = f"{type(backend).__module__.rsplit('.', 1)[-1]}.{type(backend).__name__}"

    def _guarded(self, action: Callable[[], Any]) -> Any:
        lock_path = self.home / "keyring.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + KEYRING_DEADLINE
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise KeyringError("the keyring is busy") from None
                    time.sleep(0.02)
            try:
                return action()
            except KeyringError:
                raise
            except Exception as exc:  # backend errors can carry secrets in their text: keep only the type
                raise KeyringError(f"the keyring refused: {type(exc).__name__}") from None
        finally:
            os.close(fd)

    def get_text(self, user: str) -> str | None:
        """Any entry of butler's service (the freshness anchor lives beside the key)."""
        value: str | None = self._guarded(lambda: self.backend.get_password(SERVICE, user))
        return value

    def put_text(self, user: str, value: str) -> None:
        self._guarded(lambda: self.backend.set_password(SERVICE, user, value))

    def get(self, vault_id: bytes) -> bytes | None:
        value = self._guarded(lambda: self.backend.get_password(SERVICE, vault_id.hex()))
        if value is None:
            return None
        try:
            key = base64.b64decode(value, validate=True)
        except ValueError:
            raise KeyringError("the keyring entry for this vault is not a butler key") from None
        if len(key) != crypto.KEY_LEN:
            raise KeyringError("the keyring entry for this vault is not a butler key")
        register_secret(value)
        return key

    def put(self, vault_id: bytes, data_key: bytes) -> None:
        value = base64.b64encode(data_key).decode()
        register_secret(value)
        self._guarded(lambda: self.backend.set_password(SERVICE, vault_id.hex(), value))
        if self.get(vault_id) != data_key:  # some backends accept a write and keep nothing
            raise KeyringError("the keyring did not keep the vault key")

    def remember(self, vault: Vault) -> None:
        """Keep the open vault's data key under its id, so that it opens without a passphrase next time."""
        self.put(vault.vault_id, vault.data_key)

    def delete(self, vault_id: bytes) -> None:
        def _delete() -> None:
            if self.backend.get_password(SERVICE, vault_id.hex()) is not None:
                self.backend.delete_password(SERVICE, vault_id.hex())

        self._guarded(_delete)


def vault_settings(home: Path) -> VaultConfig:
    """The `[vault]` section of the home's config.toml (every default where it says nothing)."""
    return load_config(paths.config_path(home)).vault


def keyring_store(home: Path, settings: VaultConfig | None = None) -> KeyringStore | None:
    """The keyring that `BUTLER_KEYRING`, else `[vault] keyring` (`settings`, read from the home's config.toml when
    not given), picks; None when there is none (and neither insisted on one)."""
    choice = (os.environ.get(ENV_KEYRING) or (settings or vault_settings(home)).keyring).strip().lower()
    if choice == "none":
        return None
    if choice != "auto":
        return KeyringStore(_backend(choice), home)
    platform_backend = {"linux": "secretservice", "darwin": "macos", "win32": "windows"}.get(sys.platform)
    if platform_backend is None:
        return None
    try:
        return KeyringStore(_backend(platform_backend), home)
    except KeyringError as exc:
        log.info("no keyring: %s", exc.message)
        return None


def read_passphrase_file(path: Path) -> str:
    try:
        info = path.stat()
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise VaultLocked(f"cannot read the passphrase file {path}: {exc.strerror}") from None
    if stat.S_IMODE(info.st_mode) & 0o077:
        log.warning("passphrase file %s is readable by others; chmod 600 it", path)
    passphrase = raw.rstrip("\r\n")
    if not passphrase:
        raise VaultLocked(f"the passphrase file {path} is empty")
    register_secret(passphrase)
    return passphrase


def _rotation_left_under_another_key(home: Path, data_key: bytes) -> bool:
    """True when an interrupted rotation left copies under a key other than `data_key`.

    Whether that rotation committed (new key file written) only the passphrase can tell; a keyring key may be
    the old one, and opening with it would throw the committed copies away.
    """
    wanted = crypto.key_id(data_key)
    for target in (paths.vault_log_path(home), paths.audit_path(home)):
        staged = header_key_id(staging_path(target))
        if staged is not None and staged != wanted:
            return True
    return False


def anchor_factory(home: Path, store: KeyringStore | None) -> AnchorFactory:
    """The freshness anchors of the vault in `home`: beside the key in the OS keyring when there is one, and a
    file in the platform's state directory (always: it costs little, and covers times without the keyring)."""
    def factory(vault_id: bytes) -> list[AnchorStore]:
        stores: list[AnchorStore] = [KeyringAnchors(store, vault_id, home)] if store is not None else []
        return [*stores, FileAnchors(vault_id, home)]

    return factory


@dataclass
class Unlocked:
    vault: Vault
    source: str  # "keyring (SecretService.Keyring)", "passphrase file", "passphrase"
    notes: list[str]


def open_vault(home: Path | None = None, *, settings: VaultConfig | None = None, interactive: bool | None = None,
               prompt: Callable[[str], str] = getpass.getpass, remember: bool = True) -> Unlocked:
    """Open the vault with the first key source that works, and say which one it was.

    Order: the OS keyring; `BUTLER_PASSPHRASE_FILE`; a passphrase typed at the terminal (only when
    `interactive`, which defaults to stdin being a terminal). After a passphrase unlock, the data key is
    stored in the keyring when one exists, so unattended runs can open the vault next time. `settings` (the
    `[vault]` config; read from the home's config.toml when not given) picks the keyring and how long to wait
    for the home lock.
    """
    home = home or paths.butler_home()
    settings = settings or vault_settings(home)
    key_file = KeyFile.read(paths.vault_key_path(home))
    notes: list[str] = []
    store: KeyringStore | None = None
    try:
        store = keyring_store(home, settings)
    except KeyringError as exc:
        notes.append(f"keyring unavailable ({exc.message})")
    if store is None and not notes:
        notes.append("no OS keyring here: using the passphrase instead")
    if store is not None:
        try:
            key = store.get(key_file.vault_id)
        except KeyringError as exc:
            notes.append(f"keyring unavailable ({exc.message}): using the passphrase instead")
            key = None
        if key is not None and _rotation_left_under_another_key(home, key):
            notes.append("a key rotation was interrupted: the key in the keyring may be out of date")
        elif key is not None:
            try:
                return Unlocked(Vault(home, key, lock_timeout=settings.lock_timeout_seconds,
                                      anchors=anchor_factory(home, store)), f"keyring ({store.name})", notes)
            except VaultCorrupt as exc:
                if "another key" not in exc.message:
                    raise
                notes.append("the key in the keyring is out of date (the vault was rotated)")
    passphrase_file = os.environ.get(ENV_PASSPHRASE_FILE)
    if passphrase_file:
        passphrase, source = read_passphrase_file(Path(passphrase_file)), "passphrase file"
    else:
        if interactive is None:
            interactive = sys.stdin.isatty()
        if not interactive:
            raise VaultLocked("the vault is locked: no key in the keyring, no passphrase file, no terminal")
        passphrase, source = prompt("Vault passphrase: "), "passphrase"
        register_secret(passphrase)
    data_key = key_file.unwrap(passphrase)
    vault = Vault(home, data_key, lock_timeout=settings.lock_timeout_seconds, anchors=anchor_factory(home, store))
    if store is not None and remember:
        try:
            store.remember(vault)
            notes.append(f"vault key stored in the keyring ({store.name})")
        except KeyringError as exc:
            notes.append(f"could not store the key in the keyring: {exc.message}")
    return Unlocked(vault, source, notes)

