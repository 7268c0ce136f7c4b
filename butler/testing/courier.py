"""A throwaway Courier-IMAP 5 server on 127.0.0.1, for tests: NAMESPACE (("INBOX." ".")), UIDPLUS, no MOVE.

    with start_courier({"alice": "secret"}) as server:
        IMAPClient("127.0.0.1", port=server.port, ssl=False).login("alice", "secret")

Courier's authentication library reads `/etc/courier/authdaemonrc`, `/etc/courier/userdb.dat` and the socket
`/run/courier/authdaemon/socket`: paths compiled in. So the server runs in its own mount namespace
(`unshare --mount`, root only) where a private copy of `/etc/courier` and a private `/run` are mounted over the
real ones; nothing on the machine is changed. `couriertcpd` serves `imaplogin` + `imapd` (from the unpacked
courier-imap package) over the users' Maildirs, stored as `nobody`. `stop()` kills the process group.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from butler.testing.debpackages import ServerNotInstalled, server_root
from butler.testing.dovecot import free_port, wait_listening

__all__ = ["CourierServer", "start_courier"]

_RUN = """set -e
mount --bind {root}/etc /etc/courier
mount --bind {root}/run /run
set -a
. /etc/courier/authdaemonrc
. /etc/courier/imapd
IMAP_CAPABILITY="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE IDLE"
IMAP_EMPTYTRASH=""
set +a
/usr/lib/courier/courier-authlib/authdaemond >{root}/authdaemond.log 2>&1 &
i=0
while [ ! -S /run/courier/authdaemon/socket ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done
exec couriertcpd -address=127.0.0.1 -nodnslookup -noidentlookup -maxprocs=40 -maxperip=40 {port} \\
  {base}/usr/lib/courier/courier/imaplogin {base}/usr/bin/imapd Maildir
"""


@dataclass
class CourierServer:
    """A running Courier-IMAP: connect to 127.0.0.1:`port`; `root` holds its configuration, mail and logs."""

    port: int
    root: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def log(self) -> str:
        return "".join((self.root / name).read_text(errors="replace")
                       for name in ("server.log", "authdaemond.log") if (self.root / name).exists())

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> CourierServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def _userdb_line(root: Path, name: str, password: str, uid: int, gid: int) -> str:
    home = root / "mail" / name
    for sub in ("cur", "new", "tmp"):
        (home / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
    for path in (home, home / "Maildir", *(home / "Maildir" / sub for sub in ("cur", "new", "tmp"))):
        os.chown(path, uid, gid)
        path.chmod(0o700)
    digest = base64.b64encode(hashlib.sha1(password.encode(), usedforsecurity=False).digest()).decode()
    return f"{name}\tuid={uid}|gid={gid}|home={home}|mail={home}/Maildir|imappw={{SHA}}{digest}\n"


def start_courier(users: Mapping[str, str], *, timeout: float = 20.0) -> CourierServer:
    """Start Courier-IMAP with these users (name → password) and wait until it accepts connections.

    Raises:
        ServerNotInstalled: the unpacked package, Courier's authentication daemon or `unshare` are missing, or
            this is not root (a private mount namespace needs it).
        RuntimeError: it did not start within `timeout` seconds (the message ends with its logs).
    """
    base = server_root("courier")
    for tool in ("couriertcpd", "makeuserdb", "unshare"):
        if shutil.which(tool) is None:
            raise ServerNotInstalled("courier", f"{tool} is missing (apt-get install courier-base "
                                     "courier-authlib-userdb courier-authdaemon util-linux)")
    if not Path("/usr/lib/courier/courier-authlib/authdaemond").exists() or not Path("/etc/courier").is_dir():
        raise ServerNotInstalled("courier", "the authentication daemon is missing (apt-get install courier-authdaemon)")
    if os.getuid() != 0:
        raise ServerNotInstalled("courier", "it runs in a private mount namespace, which needs root")
    root = Path(tempfile.mkdtemp(prefix="butler-courier-"))
    try:
        root.chmod(0o755)
        shutil.copytree("/etc/courier", root / "etc", symlinks=True)
        shutil.copy(base / "etc/courier/imapd", root / "etc/imapd")
        rc = root / "etc/authdaemonrc"
        rc.write_text("".join('authmodulelist="authuserdb"\n' if line.startswith("authmodulelist=") else
                              "daemons=3\n" if line.startswith("daemons=") else line
                              for line in rc.read_text().splitlines(keepends=True)))
        (root / "run/courier/authdaemon").mkdir(parents=True)
        (root / "run/courier/authdaemon").chmod(0o750)
        nobody = pwd.getpwnam("nobody")
        userdb = root / "etc/userdb"
        userdb.write_text("".join(_userdb_line(root, name, password, nobody.pw_uid, nobody.pw_gid)
                                  for name, password in users.items()))
        userdb.chmod(0o600)
        subprocess.run(["makeuserdb", "-f", str(userdb)], check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        (root / "run.sh").write_text(_RUN.format(root=shlex.quote(str(root)), base=shlex.quote(str(base)),
                                                 port=port))
        with open(root / "server.log", "wb") as log:
            process = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", str(root / "run.sh")],
                                       start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    server = CourierServer(port, root, process)
    if not wait_listening(port, process, time.monotonic() + timeout):
        log_text = server.log()
        server.stop()
        raise RuntimeError(f"courier did not start: {log_text[-2000:]}")
    return server
