"""Where the vault key comes from: this process (a `KeyCache`), the unlock agent, the OS keyring, a passphrase
file, or the person at the terminal.

The keyring backend is chosen explicitly (Secret Service on Linux, Keychain on macOS, Credential Locker on
Windows) so that a plaintext fallback can never be picked silently. The keyring holds the data key itself, so
background sweeps can open the vault unattended; the passphrase only unwraps it from `vault.key`.
Keyring access is serialised by a file lock and bounded by a deadline: headless keyring daemons misbehave
under concurrent clients, and a sweep must never wait on a desktop unlock prompt.

A process unlocks once: unlocks run one at a time (`_UNLOCK_LOCK`), and a long-running process (the daemon)
passes a `KeyCache`, so its jobs reuse the key the first one found instead of each deriving it again.
"""

from __future__ import annotations

import base64
import fcntl
import getpass
import logging
import os
import stat
import sys
import threading
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
    "KeyCache",
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
    source: str  # "keyring (SecretService.Keyring)", "agent", "passphrase file", "passphrase", "this process"
    notes: list[str]


class KeyCache:
    """Data keys this process already found, by home and vault id, with where each came from: a long-running
    process passes one to `open_vault` and unlocks once."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, bytes], tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def get(self, home: Path, vault_id: bytes) -> tuple[bytes, str] | None:
        with self._lock:
            return self._keys.get((str(home), vault_id))

    def put(self, home: Path, vault_id: bytes, key: bytes, source: str) -> None:
        with self._lock:
            self._keys[(str(home), vault_id)] = (key, source)

    def drop(self, home: Path, vault_id: bytes) -> None:
        with self._lock:
            self._keys.pop((str(home), vault_id), None)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


# One unlock at a time in a process: a second one waits, then finds the first one's key in the cache instead of
# deriving it again (two daemon jobs starting together did; see also crypto._DERIVE_LOCK).
_UNLOCK_LOCK = threading.Lock()


def _agent_key(vault_id: bytes, notes: list[str]) -> bytes | None:
    from butler.agent import AgentClient, AgentError

    try:
        return AgentClient().get(vault_id)
    except AgentError as exc:
        notes.append(f"unlock agent unavailable ({exc.message})")
        return None


def _stale(exc: VaultCorrupt) -> bool:
    return "another key" in exc.message


def open_vault(home: Path | None = None, *, settings: VaultConfig | None = None, interactive: bool | None = None,
               prompt: Callable[[str], str] = getpass.getpass, remember: bool = True,
               cache: KeyCache | None = None, use_agent: bool = True) -> Unlocked:
    """Open the vault with the first key source that works, and say which one it was.

    Order: `cache` (keys this process found before); the unlock agent (`butler unlock`); the OS keyring;
    `BUTLER_PASSPHRASE_FILE`; a passphrase typed at the terminal (only when `interactive`, which defaults to
    stdin being a terminal). After a passphrase unlock, the data key is stored in the keyring when one exists,
    so unattended runs can open the vault next time. A key found is kept in `cache`. `settings` (the `[vault]`
    config; read from the home's config.toml when not given) picks the keyring and how long to wait for the home
    lock.
    """
    home = home or paths.butler_home()
    settings = settings or vault_settings(home)
    with _UNLOCK_LOCK:
        unlocked = _open_vault(home, settings, interactive, prompt, remember, cache, use_agent)
    if cache is not None and not unlocked.source.endswith(", kept by this process"):
        cache.put(home, unlocked.vault.vault_id, unlocked.vault.data_key, unlocked.source)
    return unlocked


def _open_vault(home: Path, settings: VaultConfig, interactive: bool | None, prompt: Callable[[str], str],
                remember: bool, cache: KeyCache | None, use_agent: bool) -> Unlocked:
    key_file = KeyFile.read(paths.vault_key_path(home))
    vault_id = key_file.vault_id
    notes: list[str] = []
    store: KeyringStore | None = None
    resolved_store = False

    def keyring() -> KeyringStore | None:
        nonlocal store, resolved_store
        if not resolved_store:
            resolved_store = True
            try:
                store = keyring_store(home, settings)
            except KeyringError as exc:
                notes.append(f"keyring unavailable ({exc.message})")
                return None
            if store is None:
                notes.append("no OS keyring here: using the passphrase instead")
        return store

    def attempt(key: bytes, source: str, stale_note: str) -> Unlocked | None:
        if _rotation_left_under_another_key(home, key):
            notes.append("a key rotation was interrupted: the key from the " + source + " may be out of date")
            return None
        try:
            return Unlocked(Vault(home, key, lock_timeout=settings.lock_timeout_seconds,
                                  anchors=anchor_factory(home, keyring())), source, notes)
        except VaultCorrupt as exc:
            if not _stale(exc):
                raise
            notes.append(stale_note)
            return None

    cached = cache.get(home, vault_id) if cache is not None else None
    if cached is not None:
        opened = attempt(cached[0], f"{cached[1]}, kept by this process",
                         "the key this process had is out of date (the vault was rotated)")
        if opened is not None:
            return opened
        assert cache is not None
        cache.drop(home, vault_id)
    if use_agent:
        key = _agent_key(vault_id, notes)
        if key is not None:
            register_secret(key.hex())
            opened = attempt(key, "agent", "the key in the unlock agent is out of date (the vault was rotated)")
            if opened is not None:
                return opened
    found = keyring()
    if found is not None:
        try:
            key = found.get(vault_id)
        except KeyringError as exc:
            notes.append(f"keyring unavailable ({exc.message}): using the passphrase instead")
            key = None
        if key is not None:
            opened = attempt(key, f"keyring ({found.name})",
                             "the key in the keyring is out of date (the vault was rotated)")
            if opened is not None:
                return opened
    passphrase_file = os.environ.get(ENV_PASSPHRASE_FILE)
    if passphrase_file:
        passphrase, source = read_passphrase_file(Path(passphrase_file)), "passphrase file"
    else:
        if interactive is None:
            interactive = sys.stdin.isatty()
        if not interactive:
            raise VaultLocked("the vault is locked: no key in the keyring or the unlock agent, no passphrase "
                              "file, no terminal")
        passphrase, source = prompt("Vault passphrase: "), "passphrase"
        register_secret(passphrase)
    data_key = key_file.unwrap(passphrase)
    vault = Vault(home, data_key, lock_timeout=settings.lock_timeout_seconds, anchors=anchor_factory(home, found))
    if found is not None and remember:
        try:
            found.remember(vault)
            notes.append(f"vault key stored in the keyring ({found.name})")
        except KeyringError as exc:
            notes.append(f"could not store the key in the keyring: {exc.message}")
    return Unlocked(vault, source, notes)
