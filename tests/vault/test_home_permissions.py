"""Everything butler creates is private whatever the umask: every directory 0700, every file 0600 (the agent's
socket too), in BUTLER_HOME, in the state directory that holds the freshness anchor and in the agent's runtime
directory. Each command runs as its own process under umask 000 and 022, starting with a mail sweep that finds
no home yet."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from helpers.vaultkit import BUTLER, passphrase_file

from butler import paths

PROMO = (b"From: Deals <deals@shop.example>\r\nTo: me@example.org\r\nSubject: 50% off everything today\r\n"
         b"List-Unsubscribe: <https://shop.example/u>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
         b"Message-ID: <1@shop.example>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nBuy now! Sale ends soon.\r\n")
HANG_GUARD_SECONDS = 120


def _maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "new" / "1.promo:2,").write_bytes(PROMO)
    return root


def _run(umask: int, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BUTLER, *args], env=env, umask=umask, capture_output=True, text=True,
                          timeout=HANG_GUARD_SECONDS, check=False, input='{"text": "a note"}')


def _daemon_start_and_stop(umask: int, env: dict[str, str], home: Path) -> None:
    process = subprocess.Popen([BUTLER, "daemon"], env=env, umask=umask, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        state = home / "daemon-state.json"
        for _ in range(HANG_GUARD_SECONDS * 20):  # until it has started: its state names its pid
            if state.exists() and f'"pid": {process.pid}' in state.read_text():
                break
            if process.poll() is not None:
                raise AssertionError(f"the daemon ended: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.05)
        else:
            raise AssertionError("the daemon did not start")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=HANG_GUARD_SECONDS)


def _modes(root: Path) -> list[str]:
    """Everything under `root` (and `root` itself) that is not private."""
    wrong = []
    for directory, _, filenames in os.walk(root):
        here = Path(directory)
        mode = stat.S_IMODE(here.lstat().st_mode)
        if mode != 0o700:
            wrong.append(f"{here} {mode:o}")
        for name in filenames:
            info = (here / name).lstat()
            if stat.S_IMODE(info.st_mode) != 0o600:
                wrong.append(f"{here / name} {stat.S_IMODE(info.st_mode):o}")
    return wrong


@pytest.mark.slow
@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_every_directory_is_0700_and_every_file_0600(umask: int, butler_env: Path, tmp_path: Path) -> None:
    home = butler_env
    assert not home.exists()
    pw = passphrase_file(tmp_path / "secrets")
    maildir = _maildir(tmp_path / "Maildir")
    env = {**os.environ, "BUTLER_INSECURE_FAST_KDF": "1", "BUTLER_PASSPHRASE_FILE": str(pw)}
    _run(umask, "mail", "sweep", "--maildir", str(maildir), env=env)  # no vault yet: may fail, must not leak
    steps = [
        ("init",),
        ("vault", "put", "notes", "n1"),
        ("mail", "sweep", "--maildir", str(maildir)),
        ("vault", "export", str(tmp_path / "backup.bin")),
        ("unlock", "--for", "5m"),
        ("vault", "status"),
        ("lock",),
    ]
    for step in steps:
        done = _run(umask, *step, env=env)
        assert done.returncode == 0, (step, done.stderr)
    _daemon_start_and_stop(umask, env, home)
    assert (home / "mail").is_dir() and (home / "schedule.sqlite").is_file()
    assert stat.S_IMODE((tmp_path / "backup.bin").stat().st_mode) == 0o600
    wrong = _modes(home) + _modes(paths.state_dir())
    runtime = Path(os.environ["XDG_RUNTIME_DIR"]) / "butler"
    if runtime.exists():
        wrong += _modes(runtime)
    assert not wrong, wrong


def test_private_dir_makes_every_missing_parent_0700_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        made = paths.private_dir(tmp_path / "a" / "b" / "c")
    finally:
        os.umask(old)
    for directory in (tmp_path / "a", tmp_path / "a" / "b", made):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    (tmp_path / "loose").mkdir(mode=0o755)
    (tmp_path / "loose").chmod(0o755)
    assert stat.S_IMODE(paths.private_dir(tmp_path / "loose").stat().st_mode) == 0o700
