r"""kill -9 at every step of the COPY fallback, 100 times, on the two servers that use it (Courier, which has no
MOVE, and Dovecot told not to use MOVE).

A sweep of 20 messages in batches of two makes its moves batch by batch: ten rounds of plan → COPY → journal the
copies → \\Deleted → UID EXPUNGE → journal, 60 steps. Run k is killed right after the k-th step (k = 1…50 on each
server), so every step of the first rounds is hit at each position. Every promotion has an identical copy in
Promotions already (same Message-ID, same bytes): a crash before its COPY must not take that copy for its own.
After each kill: the next sweep finishes or undoes what was begun; every message is somewhere exactly once with
its flags; a further sweep moves nothing; undo puts everything back. The mailbox is then as before, for the next k.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from butler.mail import ImapSource, MailSweep, UndoFilter
from butler.mail.undo import restore
from tests.mail.conftest import IMAP_PASS, ImapServer
from tests.mail.mailfactory import personal, promotion
from tests.mail.test_mail_servers import everywhere, in_folder, snapshot

STEPS = ("journal:plan", "copy", "journal:copied", "add_flags", "uid_expunge", "journal:move")
PER_SERVER = 50
CHUNK = 10  # kill points per test, run in turn on one mailbox (the tests of a server share out among workers)

CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from butler.mail import ImapSource, MailSweep
    from butler.mail.settings import MailSettings
    from tests.mail.killpoints import watch

    port, user, password, home, kill_at = sys.argv[1:6]
    settings = MailSettings(host="127.0.0.1", port=int(port), username=user, tls=False, batch_size=2)
    source = ImapSource(settings, password, force_copy_fallback=True)
    steps = 0

    def after(name):
        global steps
        steps += 1
        if steps == int(kill_at):
            os.kill(os.getpid(), signal.SIGKILL)

    watch(source, after)
    MailSweep(source, settings, home=Path(home), moves_at_once=1).run()
    print(steps)
""")


def _mailbox(server: ImapServer) -> None:
    """20 messages: 18 promotions (some read), 2 personal; an identical copy of every promotion in Promotions, so
    that wherever a run is killed, the message being moved has a look-alike there (and the order of the inbox,
    which each undo changes, does not matter)."""
    promos = [promotion(f"k{i}.example") for i in range(18)]
    server.append(*promos[:6], personal(subject="one"), *promos[6:10])
    server.append(*promos[10:14], flags=[b"\\Seen"])
    server.append(personal(subject="two"), *promos[14:])
    client = server.client()
    client.create_folder(server.folder("Promotions"))
    client.logout()
    server.append(*promos, folder=server.folder("Promotions"))


def _settle_and_undo(server: ImapServer, home: Path) -> tuple[int, int, int]:
    """(moved by the sweep after the crash, moved by a further sweep, restored by undo)."""
    settings = server.settings()
    source = ImapSource(settings, IMAP_PASS, force_copy_fallback=True)
    try:
        report = MailSweep(source, settings, home=home).run()
        finished = sum(report.moved.values()) + report.recovered
        again = sum(MailSweep(source, settings, home=home).run().moved.values())
        undone = restore(source, UndoFilter(since="2000-01-01"), home=home)
    finally:
        source.close()
    assert undone.missing == []
    return finished, again, undone.restored


CASES = [(kind, start) for kind in ("courier", "dovecot") for start in range(1, PER_SERVER + 1, CHUNK)]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "start"), CASES, ids=[f"{k}-{s}-{s + CHUNK - 1}" for k, s in CASES])
def test_kill_nine_at_every_step_of_the_copy_fallback(request: pytest.FixtureRequest, kind: str, start: int,
                                                       tmp_path: Path) -> None:
    server: ImapServer = request.getfixturevalue(f"{kind}_server")
    server.new_user()
    _mailbox(server)
    before = snapshot(server)
    promotions, inbox = server.folder("Promotions"), "INBOX"
    for kill_at in range(start, start + CHUNK):
        home = tmp_path / f"home-{kill_at}"
        proc = subprocess.run([sys.executable, "-c", CHILD, str(server.port), server.user, IMAP_PASS, str(home),
                               str(kill_at)], env=os.environ.copy(), timeout=120, check=False, capture_output=True)
        assert proc.returncode == -signal.SIGKILL, (kill_at, proc.stderr.decode()[-2000:])
        crashed = snapshot(server)
        assert set(everywhere(before)) <= set(everywhere(crashed)), kill_at  # nothing lost, even mid-way
        finished, again, restored = _settle_and_undo(server, home)
        assert again == 0 and restored == 18, (kill_at, finished, again, restored)
        after = snapshot(server)
        assert everywhere(after) == everywhere(before), kill_at  # each message once, its flags unchanged
        assert (in_folder(after, inbox), in_folder(after, promotions)) == (20, 18), kill_at
