"""A throwaway Cyrus IMAP 3 server on 127.0.0.1, for tests, run from its unpacked Debian packages.

    with start_cyrus({"alice": "secret"}) as server:               # NAMESPACE (("INBOX." ".")): standard mode
        IMAPClient("127.0.0.1", port=server.port, ssl=False).login("alice", "secret")
    start_cyrus(users, alt_namespace=True)                          # NAMESPACE (("" "/")), folders beside INBOX

Everything lives in a fresh 0755 temporary folder: configuration, mail spool, SASL password database and sockets.
Users log in with PLAIN/LOGIN against that database; each user's INBOX is created at first login. As root the
server runs as `nobody` (its `cyrus_user`), so no `cyrus` account is needed. `stop()` kills the process group.
"""

from __future__ import annotations

import contextlib
import os
import pwd
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

__all__ = ["CyrusServer", "start_cyrus"]

_IMAPD_CONF = """configdirectory: {root}/conf
partition-default: {root}/spool
serverpath: {bin}
cyrus_user: {user}
admins: cyrusadmin
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {root}/sasldb
sasl_mech_list: PLAIN LOGIN
allowplaintext: yes
autocreate_quota: 0
altnamespace: {alt}
unixhierarchysep: {alt}
idlesocket: {root}/sock/idle
notifysocket: {root}/sock/notify
lmtpsocket: {root}/sock/lmtp
syslog_prefix: butler-cyrus-{port}
"""

_CYRUS_CONF = """START {{
  recover cmd="{bin}/ctl_cyrusdb -C {root}/imapd.conf -r"
}}
SERVICES {{
  imap cmd="{bin}/imapd -C {root}/imapd.conf" listen="127.0.0.1:{port}" prefork=0 maxchild=50
}}
EVENTS {{
}}
"""


@dataclass
class CyrusServer:
    """A running Cyrus: connect to 127.0.0.1:`port`; `root` holds its configuration, spool and log."""

    port: int
    root: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    admin_password: str = field(repr=False, default="")

    def log(self) -> str:
        path = self.root / "master.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def add_user(self, name: str, password: str) -> None:
        """Another login (its INBOX is created when it first logs in)."""
        _set_password(self.root, name, password)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> CyrusServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def _set_password(root: Path, name: str, password: str) -> None:
    subprocess.run(["saslpasswd2", "-p", "-c", "-f", str(root / "sasldb"), name], input=password.encode(),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    owner = (root / "conf").stat()
    os.chown(root / "sasldb", owner.st_uid, owner.st_gid)


def start_cyrus(users: Mapping[str, str], *, alt_namespace: bool = False, timeout: float = 20.0) -> CyrusServer:
    """Start Cyrus with these users (name → password) and wait until it accepts connections.

    Raises:
        ServerNotInstalled: the unpacked packages or `saslpasswd2` (package sasl2-bin) are missing.
        RuntimeError: it did not start within `timeout` seconds (the message ends with its log).
    """
    base = server_root("cyrus")
    if shutil.which("saslpasswd2") is None:
        raise ServerNotInstalled("cyrus", "saslpasswd2 is missing (apt-get install sasl2-bin)")
    root = Path(tempfile.mkdtemp(prefix="butler-cyrus-"))
    try:
        root.chmod(0o755)
        for sub in ("conf", "spool", "sock"):
            (root / sub).mkdir()
        user = pwd.getpwnam("nobody") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
        for sub in ("conf", "spool", "sock"):
            os.chown(root / sub, user.pw_uid, user.pw_gid)
        port = free_port()
        binaries = base / "usr/lib/cyrus/bin"
        (root / "imapd.conf").write_text(_IMAPD_CONF.format(root=root, bin=binaries, user=user.pw_name, port=port,
                                                            alt="yes" if alt_namespace else "no"))
        (root / "cyrus.conf").write_text(_CYRUS_CONF.format(root=root, bin=binaries, port=port))
        for name, password in {**users, "cyrusadmin": os.urandom(12).hex()}.items():
            _set_password(root, name, password)
        env = {**os.environ, "LD_LIBRARY_PATH": str(base / "usr/lib/x86_64-linux-gnu")}
        with open(root / "master.log", "wb") as log:
            process = subprocess.Popen([str(binaries / "master"), "-C", str(root / "imapd.conf"), "-M",
                                        str(root / "cyrus.conf"), "-p", str(root / "master.pid"), "-D"],
                                       start_new_session=True, stdout=log, stderr=subprocess.STDOUT, env=env)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    server = CyrusServer(port, root, process)
    if not wait_listening(port, process, time.monotonic() + timeout):
        log_text = server.log()
        server.stop()
        raise RuntimeError(f"cyrus did not start: {log_text[-2000:]}")
    return server
