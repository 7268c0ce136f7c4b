"""`butler bench mail --sweep N`: a first sweep of N generated messages on a local Dovecot, in messages per second,
beside the raw FETCH of the same messages measured in the same run.

The mailbox is written straight into the server's Maildir (appending 50k messages over IMAP would take longer
than the sweep), indexed by a first SELECT (timed apart), then fetched raw: the same items and batches the sweep
asks for (`BODY.PEEK[]<0.262144>`, FLAGS, RFC822.SIZE), once through IMAPClient and once as bare imaplib
commands without parsing. Then the first sweep runs, with engagement on (the default setting), optionally
under cProfile, and optionally with `load` CPU-bound processes running during the FETCH and the sweep.
Mail: the generated modern set (small), with a share of 36 KB marketing mail (`large_share`). Numbers are
printed, never asserted.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from butler.bench.load import busy
from butler.demo.samples import modern_set

__all__ = ["run"]

USER, PASSWORD = "bench", "bench"


def _messages(count: int, large_share: float) -> list[bytes]:
    """`count` messages: the modern set, every 1/large_share-th replaced by a large marketing message (a few
    hundred distinct ones, each copy with its own Message-ID)."""
    from butler.bench.mail import _large_html

    small = [item.raw for item in modern_set(count, seed=19)]
    if large_share <= 0:
        return small
    step = max(1, round(1 / large_share))
    large = [item.raw for item in _large_html(min(200, count // step + 1), seed=19)]
    out = []
    for n, raw in enumerate(small):
        if n % step == step - 1:
            body = large[n % len(large)]
            raw = body.replace(b"Message-ID: <", f"Message-ID: <big{n}.".encode(), 1)
        out.append(raw)
    return out


def _fill(maildir: Path, messages: list[bytes], uid: int, gid: int) -> None:
    """Write the messages as delivered mail (`cur/`, unread) of the server's user, owned as the server stores it."""
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    stamp = int(time.time())
    for n, raw in enumerate(messages):
        path = maildir / "cur" / f"{stamp}.M{n}P{os.getpid()}.bench,S={len(raw)}:2,"
        path.write_bytes(raw)
        os.chown(path, uid, gid)
    for directory in (maildir.parent, maildir, *(maildir / sub for sub in ("cur", "new", "tmp"))):  # the home too
        os.chown(directory, uid, gid)


def _raw_fetch(port: int, say: Callable[[str], None]) -> tuple[int, float, float]:
    """(messages, seconds through IMAPClient, seconds as bare imaplib commands) for the sweep's FETCH items."""
    from imapclient import IMAPClient  # type: ignore[import-untyped]

    from butler.mail.imap import BODY_ITEM, FETCH_BATCH

    client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=300)
    client.login(USER, PASSWORD)
    try:
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search(["ALL"]))
        start = time.perf_counter()
        for at in range(0, len(uids), FETCH_BATCH):
            client.fetch(uids[at:at + FETCH_BATCH], [BODY_ITEM, b"FLAGS", b"RFC822.SIZE"])
        parsed = time.perf_counter() - start
        items = f"({BODY_ITEM.decode()} FLAGS RFC822.SIZE)"
        start = time.perf_counter()
        for at in range(0, len(uids), FETCH_BATCH):
            chunk = uids[at:at + FETCH_BATCH]
            client._imap.uid("FETCH", f"{chunk[0]}:{chunk[-1]}", items)
        bare = time.perf_counter() - start
    finally:
        client.logout()
    return len(uids), parsed, bare


def run(count: int = 50_000, *, large_share: float = 0.1, profile: bool = False, load: int = 0,
        say: Callable[[str], None] = print) -> int:
    from butler.config import MailConfig
    from butler.mail.imap import ImapSource
    from butler.mail.settings import MailSettings
    from butler.mail.sweep import MailSweep

    try:  # butler.testing needs the test extras (pytest)
        from butler.testing.dovecot import DovecotNotInstalled, start_dovecot
    except ImportError as error:
        say(f"sweep benchmark: needs the test extras ({error})")
        return 1
    try:
        server = start_dovecot({USER: PASSWORD})
    except DovecotNotInstalled as error:
        say(f"sweep benchmark: {error}")
        return 1
    home = Path(tempfile.mkdtemp(prefix="butler-bench-sweep-"))
    try:
        start = time.perf_counter()
        messages = _messages(count, large_share)
        size = sum(len(m) for m in messages)
        maildir = server.root / "mail" / USER / "Maildir"
        uid, gid = (int(v) for v in (server.root / "users").read_text().split(":")[2:4])  # as Dovecot stores mail
        umask = os.umask(0o022)  # the CLI's umask (0077) would keep Dovecot's own users out of the mail
        try:
            _fill(maildir, messages, uid, gid)
        finally:
            os.umask(umask)
        del messages
        say(f"mailbox: {count:,} messages, {size / count / 1024:.1f} KB on average ({large_share:.0%} of 36 KB "
            f"marketing mail), written in {time.perf_counter() - start:.1f} s")
        settings = MailSettings(host="127.0.0.1", port=server.port, username=USER, tls=False)
        start = time.perf_counter()
        ImapSource(settings, PASSWORD).view("INBOX", 0)  # Dovecot indexes the new Maildir here
        say(f"  first SELECT (Dovecot builds its index): {time.perf_counter() - start:.1f} s")
        if load:
            say(f"  with {load} busy process(es) on {os.cpu_count()} core(s) from here on")
        with busy(load):
            fetched, parsed, bare = _raw_fetch(server.port, say)
            say(f"  raw FETCH of the same {fetched:,} messages: {bare:.1f} s as bare imaplib commands "
                f"({fetched / bare:,.0f} msg/s), {parsed:.1f} s through IMAPClient ({fetched / parsed:,.0f} msg/s)")
            source = ImapSource(settings, PASSWORD)
            sweep = MailSweep(source, settings, home=home, engagement=MailConfig())
            profiler = cProfile.Profile() if profile else None
            start = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            report = sweep.run()
            if profiler is not None:
                profiler.disable()
            took = time.perf_counter() - start
            source.close()
        say(f"  first sweep: examined {report.examined:,}, moved {sum(report.moved.values()):,} in {took:.1f} s "
            f"({report.examined / took:,.0f} msg/s); sweep / bare FETCH time {took / bare:.2f}x, "
            f"sweep / IMAPClient FETCH time {took / parsed:.2f}x")
        if profiler is not None:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats("butler|imapclient|imaplib", 25)
            stats.sort_stats("tottime").print_stats(12)
            say("  where the sweep's time goes (cProfile, cumulative for butler and IMAP, then by own time):")
            say("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip())[:6000])
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    return 0
