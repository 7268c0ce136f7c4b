"""Debian server packages unpacked into a private folder, for servers that cannot be installed beside Dovecot.

Cyrus IMAP and Courier IMAP both conflict with `dovecot-imapd` (each provides `imap-server`), so their libraries
are installed with apt and the server packages themselves are only unpacked (`dpkg-deb -x`) under
`BUTLER_TEST_SERVERS` (default `/opt/butler-test-servers`), one folder per server:

    python -m butler.testing.debpackages install        # as root: apt-get install the libraries, unpack both

The launchers (`butler.testing.cyrus`, `butler.testing.courier`) run the binaries from there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["APT_PACKAGES", "UNPACKED", "ServerNotInstalled", "install", "server_root"]

# installed normally: what the unpacked servers link against, plus Courier's authentication daemon and tools
APT_PACKAGES = ("sasl2-bin", "libsasl2-modules", "libsasl2-2", "db-util", "libjansson4", "libical3", "libicu72",
                "libpcre3", "libsqlite3-0", "libxapian30", "zlib1g", "libwrap0", "libpq5", "libldap-2.5-0",
                "libkrb5-3", "libgssapi-krb5-2", "libxml2", "courier-base", "courier-authlib",
                "courier-authlib-userdb", "courier-authdaemon", "libcourier-unicode4", "libgdbm6", "libidn12",
                "libgamin0", "util-linux")
# only unpacked: they conflict with dovecot-imapd
UNPACKED = {"cyrus": ("cyrus-common", "cyrus-imapd"), "courier": ("courier-imap",)}
_MARKER = {"cyrus": "usr/lib/cyrus/bin/master", "courier": "usr/bin/imapd"}


class ServerNotInstalled(RuntimeError):
    """A server's unpacked packages (or the libraries they need) are missing."""

    def __init__(self, name: str, detail: str = "") -> None:
        super().__init__(f"{name} is not unpacked under {_base()}{': ' + detail if detail else ''}; install it "
                         "with `python -m butler.testing.debpackages install` (as root)")


def _base() -> Path:
    return Path(os.environ.get("BUTLER_TEST_SERVERS", "/opt/butler-test-servers"))


def server_root(name: str) -> Path:
    """Where the server `name` ("cyrus" or "courier") is unpacked; raises ServerNotInstalled when it is not."""
    root = _base() / name
    if not (root / _MARKER[name]).exists():
        raise ServerNotInstalled(name)
    return root


def _installed() -> bool:
    """The libraries and tools are installed and every server is unpacked."""
    tools = ("saslpasswd2", "couriertcpd", "makeuserdb", "unshare")
    return (all(shutil.which(tool) for tool in tools)
            and Path("/usr/lib/courier/courier-authlib/authdaemond").exists()
            and all((_base() / name / _MARKER[name]).exists() for name in UNPACKED))


def install(names: tuple[str, ...] = tuple(UNPACKED)) -> None:
    """apt-get install the libraries, then download and unpack each server's packages (root only). Does nothing
    when all is in place already."""
    if _installed():
        print(f"cyrus and courier: unpacked under {_base()} already")
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES], check=True,
                   env=env, stdout=subprocess.DEVNULL)
    for name in names:
        root = _base() / name
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as download:
            os.chmod(download, 0o755)  # noqa: S103 -- apt downloads as its sandbox user, which must write here
            subprocess.run(["apt-get", "download", *UNPACKED[name]], cwd=download, check=True, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for deb in sorted(Path(download).glob("*.deb")):
                subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        print(f"{name}: unpacked under {root}")


if __name__ == "__main__":
    if sys.argv[1:2] != ["install"]:
        sys.exit("usage: python -m butler.testing.debpackages install [cyrus] [courier]")
    install(tuple(sys.argv[2:]) or tuple(UNPACKED))
