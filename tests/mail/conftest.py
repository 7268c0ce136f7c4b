"""Mail fixtures: a real Dovecot on 127.0.0.1 for the session (a missing binary fails, never skips)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

from butler.mail.settings import MailSettings

IMAP_USER = "butler"
IMAP_PASS = "imap-test-secret"

_CONF = """protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = butler-imap-{port}
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
{users}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/users
}}
userdb {{
  driver = passwd-file
  args = {d}/users
}}
service anvil {{
  {chroot}
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  {chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass
class Dovecot:
    port: int
    root: Path
    counter: int = 0

    def settings(self, **changes: object) -> MailSettings:
        return MailSettings.model_validate({"host": "127.0.0.1", "port": self.port, "username": self.user,
                                            "tls": False, **changes})

    @property
    def user(self) -> str:
        return f"{IMAP_USER}{self.counter}"

    def new_user(self) -> str:
        """A fresh, empty mailbox for one test (Dovecot creates it at first login)."""
        self.counter += 1
        return self.user

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(self.user, IMAP_PASS)
        return client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    if shutil.which("dovecot") is None:
        pytest.fail("dovecot is not installed: apt-get install -y --no-install-recommends dovecot-imapd")
    root = Path(tempfile.mkdtemp(prefix="butler-dovecot-"))  # not under tmp_path: dovecot users need +x
    root.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    port = _free_port()
    if os.getuid() == 0:
        import pwd

        nobody = pwd.getpwnam("nobody")
        uid, gid = nobody.pw_uid, nobody.pw_gid
        os.chown(root / "mail", uid, gid)
        users, chroot = "default_internal_user = dovecot\ndefault_login_user = dovenull", ""
    else:
        import grp
        import pwd

        uid, gid = os.getuid(), os.getgid()
        name, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
        users = f"default_internal_user = {name}\ndefault_internal_group = {group}\ndefault_login_user = {name}"
        chroot = "chroot ="
    # one passwd-file line per test user, each with its own mail home
    lines = [f"{IMAP_USER}{n}:{{PLAIN}}{IMAP_PASS}:{uid}:{gid}::{root}/mail/{IMAP_USER}{n}::" for n in range(200)]
    (root / "users").write_text("\n".join(lines) + "\n")
    conf = root / "dovecot.conf"
    conf.write_text(_CONF.format(d=root, port=port, users=users, chroot=chroot))
    proc = subprocess.Popen(["dovecot", "-F", "-c", str(conf)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                    pytest.fail(f"dovecot did not start: {log[-2000:]}")
                time.sleep(0.02)
        yield Dovecot(port, root)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """The session's Dovecot, logged in as a user whose mailbox no other test touched."""
    dovecot_server.new_user()
    return dovecot_server
