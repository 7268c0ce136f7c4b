"""A real terminal for tests: tmux on a private socket, read back with capture-pane."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["Terminal", "open_terminal"]


class Terminal:
    """One tmux server on `socket`; `session` is the name tests give `new-session`. With `history`, the screen
    read back includes up to 200 lines scrolled off, wrapped lines joined."""

    def __init__(self, socket: Path, session: str, *, history: bool = False) -> None:
        self.socket = str(socket)
        self.session = session
        self.history = history

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], check=True, capture_output=True, text=True,
                              timeout=10).stdout

    def screen(self) -> str:
        scrolled = ("-J", "-S", "-200") if self.history else ()
        return self.tmux("capture-pane", "-p", *scrolled, "-t", self.session)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:  # a hang guard: it waits for the text
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} never appeared; the terminal shows:\n{shown}")
            time.sleep(0.05)

    def type(self, text: str) -> None:
        """Type `text` as written, then Enter."""
        self.tmux("send-keys", "-t", self.session, "-l", text)
        self.tmux("send-keys", "-t", self.session, "Enter")

    def keys(self, *keys: str) -> None:
        for key in keys:  # one at a time: a burst like "Escape q" would arrive as alt+q
            self.tmux("send-keys", "-t", self.session, key)
            time.sleep(0.1)


def open_terminal(session: str, *, history: bool = False) -> Iterator[Terminal]:
    """A Terminal on a fresh private socket, its server killed afterwards (the body of a fixture)."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: apt-get install tmux")
    directory = Path(tempfile.mkdtemp(prefix="bterm-"))  # socket paths must stay short
    term = Terminal(directory / "s", session, history=history)
    try:
        yield term
    finally:
        subprocess.run(["tmux", "-S", term.socket, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(directory, ignore_errors=True)
