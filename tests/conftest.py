"""Shared fixtures: every test runs in its own BUTLER_HOME, HOME and XDG directories, with no keyring unless it
asks for a real one (`secret_service`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

KEYRING_PASSWORD = "keyring-test-password"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first (in their collected order): run in parallel, they start at once instead of leaving one
    worker busy with a long test while the others are done."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session", autouse=True)
def private_session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOME and the XDG directories of the whole run, for session and module fixtures (which run before
    `butler_env`): nothing a test does reaches the real home, such as the vault's freshness anchors."""
    home = tmp_path_factory.mktemp("session-home")
    names = {"HOME": home, "XDG_DATA_HOME": home / ".local" / "share", "XDG_CONFIG_HOME": home / ".config",
             "XDG_STATE_HOME": home / ".local" / "state", "XDG_CACHE_HOME": home / ".cache"}
    with pytest.MonkeyPatch.context() as patch:
        for name, path in names.items():
            path.mkdir(parents=True, exist_ok=True)
            patch.setenv(name, str(path))
        yield home


@pytest.fixture(autouse=True)
def butler_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point BUTLER_HOME, HOME and the XDG directories at temp dirs; no keyring, no D-Bus, no passphrase."""
    root = tmp_path / "env"
    home = root / "home"
    runtime = root / "run"
    for directory in (home / ".local" / "share", home / ".config", runtime):
        directory.mkdir(parents=True)
    runtime.chmod(0o700)
    monkeypatch.setenv("BUTLER_HOME", str(root / "butler"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("BUTLER_KEYRING", "none")
    for name in ("DBUS_SESSION_BUS_ADDRESS", "BUTLER_PASSPHRASE_FILE", "BUTLER_NEW_PASSPHRASE_FILE",
                 "BUTLER_INSECURE_FAST_KDF", "PYTHON_KEYRING_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    return root / "butler"


def _pids_of(program: str, marker: str) -> list[int]:
    """Processes running `program` whose environment contains `marker` (ours, not anyone else's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if program not in (entry / "cmdline").read_bytes().decode(errors="replace"):
                continue
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture
def secret_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real gnome-keyring (Secret Service) on a private D-Bus session bus; yields the bus address.

    Fails (never skips) when the programs are missing: CI installs them.
    """
    for program in ("dbus-daemon", "gnome-keyring-daemon", "secret-tool"):
        if shutil.which(program) is None:
            pytest.fail(f"{program} is not installed: apt-get install gnome-keyring dbus libsecret-tools")
    # not under tmp_path: the bus socket path must stay short
    root = Path(tempfile.mkdtemp(prefix="butler-kr-"))
    home = Path(os.environ["HOME"])
    runtime = root / "run"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    out = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--nopidfile", "--print-address=1", "--print-pid=1",
         f"--address=unix:path={runtime}/bus"],
        env=env, capture_output=True, text=True, timeout=10, check=True,
    ).stdout.split()
    address, bus_pid = out[0], int(out[1])
    try:
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets"], input=KEYRING_PASSWORD,
                       env=env, capture_output=True, text=True, timeout=10, check=True)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        monkeypatch.setenv("BUTLER_KEYRING", "secretservice")
        yield address
    finally:
        os.kill(bus_pid, signal.SIGTERM)
        for pid in _pids_of("gnome-keyring-daemon", str(runtime)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        time.sleep(0.01)
        shutil.rmtree(root, ignore_errors=True)
