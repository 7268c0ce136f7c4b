"""A throwaway Dovecot IMAP server on 127.0.0.1, for tests and benchmarks.

    with start_dovecot({"alice": "secret"}) as server:
        IMAPClient("127.0.0.1", port=server.port, ssl=False).login("alice", "secret")

`prefix="INBOX."` (with `separator="."`) imitates the layout of Cyrus in its standard mode and of Courier;
`special_use={"Spam": "\\Junk"}` makes folders that carry a special-use attribute (RFC 6154).

The server runs from a fresh 0755 temporary directory (Dovecot's unprivileged users need to traverse it, so not
pytest's 0700 `tmp_path`), listens on a free loopback port with plain-text login, and is killed with its whole
process group by `stop()`. As root, mail is stored as `nobody` (Dovecot refuses uid 0); otherwise everything runs
as the caller, without chroot.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

__all__ = ["DovecotNotInstalled", "DovecotServer", "free_port", "start_dovecot", "wait_listening"]

INSTALL_HINT = "apt-get install -y --no-install-recommends dovecot-imapd"

_CONF = """protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = butler-imap-{port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
{users}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  prefix = {prefix}
  separator = {separator}
{mailboxes}}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
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


class DovecotNotInstalled(RuntimeError):
    """The `dovecot` binary is not on PATH."""

    def __init__(self) -> None:
        super().__init__(f"dovecot is not installed: {INSTALL_HINT}")


@dataclass
class DovecotServer:
    """A running Dovecot: connect to 127.0.0.1:`port`; `root` holds its config, log and mail."""

    port: int
    root: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Kill the server's process group at once (SIGTERM lingers seconds) and remove its directory."""
        with contextlib.suppress(ProcessLookupError):  # the group outlives a master that died
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def free_port() -> int:
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], deadline: float) -> bool:
    """Wait until 127.0.0.1:`port` accepts a connection; False if `process` ended or `deadline` passed first."""
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                return False
            time.sleep(0.02)


def _accounts(root: Path) -> tuple[int, int, str, str]:
    """(mail uid, mail gid, the users lines of the config, the chroot line) for whoever runs this."""
    import pwd

    if os.getuid() == 0:  # Debian's dovecot/dovenull users; mail stored as nobody
        nobody = pwd.getpwnam("nobody")
        os.chown(root / "mail", nobody.pw_uid, nobody.pw_gid)
        return nobody.pw_uid, nobody.pw_gid, "default_internal_user = dovecot\ndefault_login_user = dovenull", ""
    import grp

    uid, gid = os.getuid(), os.getgid()
    name, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
    users = f"default_internal_user = {name}\ndefault_internal_group = {group}\ndefault_login_user = {name}"
    return uid, gid, users, "chroot ="  # rootless: no chroot in imap-login and anvil, or logins wait ~2 s


def start_dovecot(users: Mapping[str, str], *, timeout: float = 10.0, prefix: str = "", separator: str = "/",
                  special_use: Mapping[str, str] | None = None) -> DovecotServer:
    """Start Dovecot with these users (name → password; each gets its own empty mailbox) and wait until it
    accepts connections. `prefix` and `separator` shape the personal namespace; `special_use` maps folder names
    (without the prefix) to the attribute each carries; those folders exist from the first login.

    Raises:
        DovecotNotInstalled: no `dovecot` binary.
        RuntimeError: it did not start within `timeout` seconds (the message ends with its log).
    """
    if shutil.which("dovecot") is None:
        raise DovecotNotInstalled
    root = Path(tempfile.mkdtemp(prefix="butler-dovecot-"))
    try:
        root.chmod(0o755)
        for sub in ("run", "state", "mail"):  # whatever the caller's umask (the CLI's is 0077): Dovecot's own
            (root / sub).mkdir()              # users read these
            (root / sub).chmod(0o755)
        port = free_port()
        uid, gid, user_lines, chroot = _accounts(root)
        (root / "users").write_text("".join(f"{name}:{{PLAIN}}{password}:{uid}:{gid}::{root}/mail/{name}::\n"
                                            for name, password in users.items()))
        conf = root / "dovecot.conf"
        mailboxes = "".join(f"  mailbox {name} {{\n    special_use = {use}\n    auto = subscribe\n  }}\n"
                            for name, use in (special_use or {}).items())
        conf.write_text(_CONF.format(root=root, port=port, users=user_lines, chroot=chroot, prefix=prefix,
                                     separator=separator, mailboxes=mailboxes))
        for made in (root / "users", conf):
            made.chmod(0o644)
        process = subprocess.Popen(["dovecot", "-F", "-c", str(conf)], start_new_session=True, umask=0o022,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    server = DovecotServer(port, root, process)
    if not wait_listening(port, process, time.monotonic() + timeout):
        log = server.log()
        server.stop()
        raise RuntimeError(f"dovecot did not start: {log[-2000:]}")
    return server
