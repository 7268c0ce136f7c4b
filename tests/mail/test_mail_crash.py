r"""kill -9 at every step of a move, then sweep again: no message is lost, none is left twice, no flag changes.

The COPY path (servers without MOVE) runs plan → COPY → journal the copies → \\Deleted → UID EXPUNGE → journal; the
MOVE path plan → MOVE sent → its answer read → journal (the sweep judges the next batches before it reads the
answer). The sweep is killed after each step of its second batch, on the real servers
where each path is native (Courier has no MOVE; Cyrus has it) and on Dovecot for both. One message of that batch
already has an identical copy in Promotions (same Message-ID, same bytes): a crash before the COPY must not take
that copy for its own and expunge a message that was never copied.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from butler.mail import ImapSource, MailSweep, UndoFilter
from butler.mail.errors import MailboxBusy
from butler.mail.undo import restore
from tests.mail.conftest import IMAP_PASS, ImapServer
from tests.mail.mailfactory import personal, promotion
from tests.mail.test_mail_servers import everywhere, in_folder, snapshot

COPY_STEPS = ["journal:plan", "copy", "journal:copied", "add_flags", "uid_expunge", "journal:move"]
MOVE_STEPS = ["journal:plan", "move:sent", "move", "journal:move"]
CASES = ([("courier", step) for step in COPY_STEPS] + [("dovecot-copy", step) for step in COPY_STEPS]
         + [("cyrus", step) for step in MOVE_STEPS] + [("dovecot", step) for step in MOVE_STEPS])

CHILD = textwrap.dedent("""
    import os, signal, sys
    from butler.mail import ImapSource, MailSweep
    from butler.mail.settings import MailSettings
    from tests.mail.killpoints import watch

    port, user, password, copy, step = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5]
    settings = MailSettings(host="127.0.0.1", port=int(port), username=user, tls=False, batch_size=5)
    source = ImapSource(settings, password, force_copy_fallback=copy)
    seen = {}

    def after(name):
        seen[name] = seen.get(name, 0) + 1
        if name == step and seen[name] == 2:  # the second batch
            os.kill(os.getpid(), signal.SIGKILL)

    watch(source, after)
    real_start = source.start_move
    def start_move(*args):  # "move:sent": the MOVE is on its way, unanswered; "move": its answer was read
        answer = real_start(*args)
        after("move:sent")
        def answered():
            result = answer()
            after("move")
            return result
        return answered
    source.start_move = start_move
    MailSweep(source, settings, moves_at_once=1).run()  # moves made batch by batch: a second batch to kill in
""")


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "step"), CASES, ids=[f"{k}-{s}" for k, s in CASES])
def test_kill_nine_at_every_step_then_sweep_again(request: pytest.FixtureRequest, kind: str, step: str) -> None:
    server: ImapServer = request.getfixturevalue(f"{kind.removesuffix('-copy')}_server")
    server.new_user()
    promos = [promotion(f"b{i}.example") for i in range(12)]
    messages = [*promos[:5], personal(subject="one"), *promos[5:10], personal(subject="two"), *promos[10:]]
    server.append(*messages)
    client = server.client()  # an identical copy of a message of the second batch is in Promotions already
    client.create_folder(server.folder("Promotions"))
    client.logout()
    server.append(promos[5], folder=server.folder("Promotions"))
    before = snapshot(server)
    copy = kind == "dovecot-copy"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(server.port), server.user, IMAP_PASS, "1" if copy else "0",
                           step], env=os.environ.copy(), timeout=120, check=False, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    crashed = snapshot(server)
    assert set(everywhere(before)) <= set(everywhere(crashed))  # every message still somewhere (flags aside)

    source = ImapSource(server.settings(), IMAP_PASS, force_copy_fallback=copy)
    try:
        report = MailSweep(source, server.settings()).run()
    finally:
        source.close()
    after = snapshot(server)
    assert everywhere(after) == everywhere(before)  # nothing lost, nothing left twice, no flag changed
    assert in_folder(after, server.folder("Promotions")) == 13 and in_folder(after, "INBOX") == 2
    if step not in ("journal:plan",) and step != "journal:move":
        assert report.recovered >= 1
    source = ImapSource(server.settings(), IMAP_PASS, force_copy_fallback=copy)
    try:
        assert not MailSweep(source, server.settings()).run().moved
        undone = restore(source, UndoFilter(since="2000-01-01"))
    finally:
        source.close()
    assert undone.restored == 12 and undone.missing == []
    final = snapshot(server)
    assert everywhere(final) == everywhere(before) and in_folder(final, "INBOX") == 14


HOLDER = textwrap.dedent("""
    import sys
    from butler.mail import ImapSource, MailSweep
    from butler.mail.settings import MailSettings

    settings = MailSettings(host="127.0.0.1", port=int(sys.argv[1]), username=sys.argv[2], tls=False)
    source = ImapSource(settings, sys.argv[3])
    real_fetch = source.fetch_batches
    def fetch_batches(folder, batches):
        print("sweeping", flush=True)
        sys.stdin.read()  # until the test closes the pipe
        yield from real_fetch(folder, batches)
    source.fetch_batches = fetch_batches
    print(MailSweep(source, settings).run().summary(), flush=True)
""")


def test_two_sweeps_at_once_the_second_is_refused_and_changes_nothing(dovecot: ImapServer) -> None:
    dovecot.append(*(promotion(f"c{i}.example") for i in range(3)))
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(dovecot.port), dovecot.user, IMAP_PASS],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=os.environ.copy())
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline() == b"sweeping\n"  # the first sweep holds the mailbox now
        source = ImapSource(dovecot.settings(), IMAP_PASS)
        try:
            with pytest.raises(MailboxBusy, match="another sweep or undo of this mailbox is running"):
                MailSweep(source, dovecot.settings()).run()
            with pytest.raises(MailboxBusy):
                restore(source, UndoFilter(last_sweep=True))
        finally:
            source.close()
        assert in_folder(snapshot(dovecot), "INBOX") == 3
        child.stdin.close()
        assert b"moved 3 to Promotions" in child.stdout.read()
    finally:
        child.wait(60)
        assert child.stdout is not None
        child.stdout.close()
    assert child.returncode == 0
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        assert not MailSweep(source, dovecot.settings()).run().moved
    finally:
        source.close()
