"""The walls around a connector's process: bubblewrap's namespaces, and resource limits.

`command(limits)` is the argument list that starts a child (`python -m butler.sandbox.child`) inside bubblewrap:
its own empty network, PID, IPC and user namespaces; a fresh /proc and a read-only /dev; a 16 MB /tmp and a 1 MB
/dev/shm, the only places it may write; no environment but a few plain variables; the home directory,
BUTLER_HOME, butler's state folder and the agent's socket hidden under empty read-only tmpfs, and the passphrase
files (BUTLER_PASSPHRASE_FILE) empty wherever they are; read-only the interpreter, its libraries and the folders
Python imports from, and nothing else; no System V shared memory (a seccomp filter, `filter_fd`). `start` runs it.
The child sets its own rlimits (`Limits`) before it imports the connector; where this process may make a `pids`
cgroup (root, or a delegated cgroup), the number of processes is capped there too, since RLIMIT_NPROC does not
bind root, and a memory cgroup caps the memory all its processes hold together.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import platform
import shutil
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from butler import paths

__all__ = ["Limits", "ProcessCap", "available", "command", "filter_fd", "hidden_files", "hidden_paths",
           "import_paths", "start"]

_SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
_PASSPHRASE_FILES = ("BUTLER_PASSPHRASE_FILE", "BUTLER_NEW_PASSPHRASE_FILE")  # butler.vault.keys, butler.commands
_SHM_BYTES = 1024 * 1024
"""The size of the child's /dev/shm (its /tmp holds 16 MB): what it writes there is in memory."""
_SHMGET = {"x86_64": (0xC000003E, 29), "aarch64": (0xC00000B7, 194)}
"""Per machine: the seccomp architecture number and the number of the shmget system call."""
_PIDS_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))
_MEMORY_ROOT = Path("/sys/fs/cgroup/memory")  # cgroup v1; v2 keeps memory.max beside pids.max
_MEMORY_SLACK_MB = 64
"""What the memory cgroup allows besides `Limits.memory_mb`: the 17 MB of tmpfs and the page cache it reads."""


@dataclass(frozen=True)
class Limits:
    """What one connector's process may use. `call_seconds` bounds one call, its HTTP included; `output_bytes`
    what it may print (it is stopped past that)."""

    memory_mb: int = 1024
    cpu_seconds: int = 120
    open_files: int = 64
    file_mb: int = 16
    processes: int = 16
    output_bytes: int = 1024 * 1024
    call_seconds: float = 300.0

    def as_message(self) -> dict[str, float]:
        return asdict(self)


@functools.cache
def available() -> str | None:
    """None when bubblewrap runs here; otherwise why not, in one line."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        done = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
                              capture_output=True, timeout=30, env={}, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap does not start: {exc}"
    if done.returncode != 0:
        return f"bubblewrap cannot make namespaces here: {done.stderr.decode(errors='replace').strip()[:200]}"
    return None


def hidden_paths() -> list[Path]:
    """What a connector must never see: the home directory, BUTLER_HOME, butler's state folder, the agent's
    socket folder and the keyrings."""
    found = [Path.home(), paths.butler_home(), paths.state_dir(), Path.home() / ".local/share/keyrings"]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        found.append(Path(runtime))
    return [p.resolve() for p in found]


def hidden_files() -> list[Path]:
    """Files a connector must never read wherever they are kept, even beside the code it imports: the passphrase
    files named in the environment."""
    named = [os.environ.get(name) for name in _PASSPHRASE_FILES]
    return [Path(name).resolve() for name in named if name]


def _inside(path: Path, other: Path) -> bool:
    return path == other or other in path.parents


def _started_in() -> set[Path]:
    """The folders Python put on sys.path for where butler was started: the working folder (`python -m`) and the
    script's (`~/.local/bin`); they may hold anything."""
    folders = {Path.cwd()}
    if sys.argv and sys.argv[0] and sys.argv[0] != "-c":
        folders.add(Path(sys.argv[0]).resolve().parent)
    return {folder.resolve() for folder in folders}


def import_paths(extra: Iterable[str] = ()) -> list[str]:
    """The folders the child imports from: this interpreter's and its environment's, `sys.path` and `extra`;
    never one that holds something hidden (a path entry of `~` or `/`), nor the folder butler was started in
    unless it is one of the others (a connector's own folder goes in `extra`)."""
    hidden = hidden_paths()
    butler_root = str(Path(__file__).resolve().parents[2])  # butler itself (an editable install's checkout)
    started = _started_in()
    found = [entry for entry in sys.path if entry and Path(entry).resolve() not in started]
    wanted = [sys.base_prefix, sys.prefix, butler_root, *extra, *found]
    kept: list[str] = []
    for entry in wanted:
        if not entry:
            continue
        path = Path(entry).resolve()
        if not path.exists() or str(path) in kept:
            continue
        if any(_inside(secret, path) for secret in hidden):
            continue  # binding it would show what it holds
        kept.append(str(path))
    return kept


def filter_fd() -> int | None:
    """A pipe to read a seccomp filter from (bwrap's --seccomp) that refuses System V shared memory: segments
    hold their pages after they are detached, outside RLIMIT_AS, as much as the machine has. None on a machine
    it is not written for. The caller closes it once bwrap has started."""
    known = _SHMGET.get(platform.machine())
    if known is None:
        return None
    arch, shmget = known
    load, equal, at_least, answer = 0x20, 0x15, 0x35, 0x06  # classic BPF: ld [k], jeq, jge, ret
    program = [(load, 0, 0, 4),  # seccomp_data.arch
               (equal, 0, 4, arch),  # another ABI (i386 through int 0x80): refused
               (load, 0, 0, 0),  # seccomp_data.nr
               (at_least, 2, 0, 0x40000000),  # the x32 ABI: refused
               (equal, 1, 0, shmget),
               (answer, 0, 0, 0x7FFF0000),  # SECCOMP_RET_ALLOW
               (answer, 0, 0, 0x00050000 | errno.EPERM)]  # SECCOMP_RET_ERRNO
    read, write = os.pipe()
    os.write(write, b"".join(struct.pack("=HBBI", *step) for step in program))
    os.close(write)
    return read


def command(python_paths: list[str], seccomp: int | None = None) -> list[str]:
    """bwrap's argument list for a child that imports from `python_paths` (under the filter `filter_fd` gave)."""
    bwrap = shutil.which("bwrap") or "bwrap"
    private = "/tmp"  # noqa: S108 -- the child's own empty tmpfs, not the machine's /tmp
    args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev", "--size", str(_SHM_BYTES), "--tmpfs", "/dev/shm",  # noqa: S108
            "--size", str(16 * 1024 * 1024), "--tmpfs", private,
            "--clearenv", "--setenv", "LANG", "C.UTF-8", "--setenv", "PATH", "/usr/bin:/bin",
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "HOME", private, "--chdir", private]
    for system in _SYSTEM:
        path = Path(system)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), system]
        elif path.is_dir():
            args += ["--ro-bind", system, system]
    home = Path.home().resolve()
    args += ["--tmpfs", str(home)]  # the binds below may sit inside it: they are shown, the rest of it is not
    bound: list[Path] = []
    for entry in sorted(python_paths, key=len):  # a folder inside one bound already is there already
        if not any(_inside(Path(entry), outer) for outer in bound):
            bound.append(Path(entry))
            args += ["--ro-bind", entry, entry]
    hiding = [home]
    for secret in hidden_paths():
        if secret != home and any(_inside(secret, Path(entry)) for entry in python_paths):
            args += ["--tmpfs", str(secret)]
            hiding.append(secret)
    for secret in hidden_files():
        if secret.is_file() and any(_inside(secret, Path(entry)) for entry in [*python_paths, *_SYSTEM]):
            args += ["--ro-bind", "/dev/null", str(secret)]
    # Only /tmp and /dev/shm, both small, may be written: bwrap's own root, /dev and the tmpfs that hide a
    # folder are made read-only once every mount point is in place (else they would hold as much as it wrote).
    for mount in [*hiding, Path("/dev"), Path("/")]:
        args += ["--remount-ro", str(mount)]
    if seccomp is not None:
        args += ["--seccomp", str(seccomp)]
    return [*args, "--", sys.executable, "-I", "-B", "-m", "butler.sandbox.child"]


_STALE_SECONDS = 120.0


def _sweep(parent: Path) -> None:
    """Remove the empty cgroups of children gone long ago (a butler killed with its children leaves them; one
    still holding a process cannot be removed, and a new one is not yet old enough to be taken for gone)."""
    now = time.time()
    for old in parent.iterdir():
        with contextlib.suppress(OSError):
            if old.is_dir() and now - old.stat().st_mtime > _STALE_SECONDS:
                old.rmdir()


def start(python_paths: list[str], cap: ProcessCap) -> subprocess.Popen[bytes]:
    """A child, in bubblewrap under the seccomp filter and in `cap`'s cgroup, its standard streams piped."""
    seccomp = filter_fd()
    try:
        return subprocess.Popen(command(python_paths, seccomp), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env={}, pass_fds=() if seccomp is None else (seccomp,),
                                preexec_fn=cap.enter())
    finally:
        if seccomp is not None:
            os.close(seccomp)


def _memory_cgroup(path: Path, megabytes: int) -> bool:
    """Cap the memory of the processes in `path` (pages of tmpfs, memfd and shared memory included), swap too."""
    limit = str((megabytes + _MEMORY_SLACK_MB) * 1024 * 1024)
    for name, value in (("memory.limit_in_bytes", limit), ("memory.memsw.limit_in_bytes", limit),
                        ("memory.max", limit), ("memory.swap.max", "0")):
        with contextlib.suppress(OSError):  # a file this kernel lacks
            (path / name).write_text(f"{value}\n")
    return any((path / name).exists() for name in ("memory.limit_in_bytes", "memory.max"))


def _made(root: Path, setup: Callable[[Path], bool]) -> Path | None:
    """A new cgroup under `root`/butler-connectors, once `setup` made it what it should be; None where none can
    be made."""
    parent = root / "butler-connectors"
    candidate = parent / uuid.uuid4().hex[:12]
    try:
        parent.mkdir(exist_ok=True)
        _sweep(parent)
        candidate.mkdir()
        if setup(candidate):
            return candidate
    except OSError:
        pass
    with contextlib.suppress(OSError):
        candidate.rmdir()
    return None


class ProcessCap:
    """A `pids` cgroup capping how many processes a child and its descendants may run, where one can be made,
    and a memory one capping the memory they hold together (RLIMIT_AS binds each process alone, and not what it
    keeps in memfds or tmpfs), given `memory_mb`.

    `enter` (run in the forked child before it starts bubblewrap) moves the process into them; `remove` deletes
    them once the child is gone.
    """

    def __init__(self, limit: int, memory_mb: int | None = None) -> None:
        self.path: Path | None = None
        self.memory: Path | None = None
        if memory_mb is not None and (_MEMORY_ROOT / "memory.limit_in_bytes").exists():
            self.memory = _made(_MEMORY_ROOT, lambda group: _memory_cgroup(group, memory_mb))

        def pids(group: Path) -> bool:
            (group / "pids.max").write_text(f"{limit}\n")
            if memory_mb is not None and self.memory is None:  # cgroup v2: one cgroup for both
                _memory_cgroup(group, memory_mb)
            return True
        for root in _PIDS_ROOTS:
            if (root / "pids.max").exists() or (root / "cgroup.procs").exists():
                self.path = _made(root, pids)
                if self.path is not None:
                    break

    def enter(self) -> Callable[[], None] | None:
        """A function for `preexec_fn`, or None when no cgroup could be made."""
        groups = [str(path / "cgroup.procs") for path in (self.path, self.memory) if path is not None]
        if not groups:
            return None

        def join() -> None:  # runs between fork and exec: plain system calls only
            for procs in groups:
                fd = os.open(procs, os.O_WRONLY)
                try:
                    os.write(fd, b"0\n")
                finally:
                    os.close(fd)
        return join

    def remove(self) -> None:
        """Delete the cgroup once its last process is gone (they die a moment after the child's parent; one
        still there after half a second is left for a later `_sweep`)."""
        taken, self.path, self.memory = [self.path, self.memory], None, None
        for path in (path for path in taken if path is not None):
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.01)
