"""Building vaults and running the `butler` command in tests."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from butler.vault import KdfParams, Vault

__all__ = [
    "BUTLER",
    "PASSPHRASE",
    "VAULT_FILES",
    "Outcome",
    "file_hashes",
    "make_vault",
    "passphrase_file",
    "run_butler",
    "run_main",
]

PASSPHRASE = "correct horse battery staple"
VAULT_FILES = ("vault.key", "vault.log", "audit.log")
BUTLER = str(Path(sys.executable).with_name("butler"))


def make_vault(home: Path, passphrase: str = PASSPHRASE) -> Vault:
    """A new vault with cheap KDF parameters; the caller closes it."""
    return Vault.create(home, passphrase, KdfParams.fast_for_tests())


def passphrase_file(directory: Path, passphrase: str = PASSPHRASE, name: str = "passphrase") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(passphrase + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def file_hashes(home: Path, names: tuple[str, ...] = VAULT_FILES) -> dict[str, str | None]:
    return {name: hashlib.sha256((home / name).read_bytes()).hexdigest() if (home / name).exists() else None
            for name in names}


def run_butler(*args: str, env: dict[str, str] | None = None, unset: tuple[str, ...] = (),
               stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the installed `butler` script with the test environment, plus `env`, minus `unset`."""
    full = {**os.environ, "BUTLER_INSECURE_FAST_KDF": "1", **(env or {})}
    for name in unset:
        full.pop(name, None)
    return subprocess.run([BUTLER, *args], env=full, input=stdin if stdin is not None else "",
                          capture_output=True, text=True, timeout=timeout, check=False)


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def run_main(*args: str, env: dict[str, str] | None = None, unset: tuple[str, ...] = (),
             stdin: str = "") -> Outcome:
    """Run `butler.cli.main(args)` in this process, like `run_butler` but ~0.3 s cheaper per call.

    The environment, standard streams and the `butler` logger are restored afterwards.
    """
    from butler.cli import main

    saved_env = dict(os.environ)
    logger = logging.getLogger("butler")
    saved_handlers, saved_level = list(logger.handlers), logger.level
    for handler in saved_handlers:
        logger.removeHandler(handler)
    out, err = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    os.environ.update({"BUTLER_INSECURE_FAST_KDF": "1", **(env or {})})
    for name in unset:
        os.environ.pop(name, None)
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdin = saved_stdin
        os.environ.clear()
        os.environ.update(saved_env)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        for handler in saved_handlers:
            logger.addHandler(handler)
        logger.setLevel(saved_level)
    return Outcome(code, out.getvalue(), err.getvalue())
