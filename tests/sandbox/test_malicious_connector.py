"""A malicious connector in butler's sandbox: each attack is denied or contained, the parent survives, and no
secret of anyone else turns up in anything the connector returned, logged or printed, nor in any file.

The connector (plugins/butler_evil_connector.py) is loaded the way butler loads an installed connector: by name,
its code imported only inside the sandbox.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.vaultkit import make_vault

from butler import paths, registry, sandbox
from butler.sandbox import Limits
from butler.sdk import ConnectorContext, ConnectorError, HostNotAllowed, Resolver, RetriableError
from butler.vault import Vault

PLUGINS = Path(__file__).with_name("plugins")
TARGET = "butler_evil_connector:EvilConnector"
OWN = "own-api-key-4f1c9a7e2b"
PASSPHRASE = "parent-passphrase-8d2e6b1f0a"
OTHER = "other-connector-secret-93b7c5d1e4"
KEYRING_SECRET = "keyring-held-secret-5a0f2c8e71"
FORBIDDEN = (PASSPHRASE, OTHER, KEYRING_SECRET)
LIMITS = Limits(memory_mb=512, cpu_seconds=30, call_seconds=20, output_bytes=64 * 1024, processes=12)


@pytest.fixture
def home(butler_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Vault]:
    """A vault holding another connector's secret, and the passphrase in the parent's environment."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.setenv("BUTLER_PASSPHRASE", PASSPHRASE)
    vault = make_vault(paths.butler_home(), PASSPHRASE)
    vault.put(registry.SECRETS_COLLECTION, "other/api_key",
              {"connector_id": "other", "name": "api_key", "value": OTHER})
    try:
        yield vault
    finally:
        vault.close()
    assert "butler_evil_connector" not in sys.modules  # butler never imported it


async def _resolve(host: str, port: int) -> Sequence[str]:
    return {"vendor.test": ["127.0.0.1"]}.get(host, ["93.184.216.34"])


async def _public(host: str, port: int) -> Sequence[str]:
    return ["93.184.216.34"]


class Outcome:
    def __init__(self, lines: list[str] | None, error: ConnectorError | None, printed: str, logged: str,
                 process: Any = None) -> None:
        self.lines = lines or []
        self.process = process
        self.error = error
        self.printed = printed
        self.logged = logged

    @property
    def text(self) -> str:
        return "\n".join([*self.lines, str(self.error or ""), self.printed, self.logged])


def attack(name: str, target: str = "", *, limits: Limits = LIMITS, caplog: pytest.LogCaptureFixture,
           transport: httpx.AsyncBaseTransport | None = None, resolver: Resolver = _resolve) -> Outcome:
    cls = sandbox.described(TARGET, limits=limits)
    ctx = ConnectorContext(cls.manifest, settings={"attack": name, "target": target}, secrets={"api_key": OWN},
                           resolver=resolver, transport=transport)
    connector = cls(ctx)
    lines: list[str] | None = None
    error: ConnectorError | None = None

    async def run() -> list[str]:
        return [str(line) for line in await connector.validate() or ()]
    process = connector._process
    assert process is not None
    caught: list[BaseException] = []

    def runs() -> None:
        try:
            got.extend(asyncio.run(run()))
        except BaseException as exc:  # handed to the test's thread
            caught.append(exc)
    got: list[str] = []
    worker = threading.Thread(target=runs, daemon=True)
    worker.start()
    worker.join(limits.call_seconds + 15)  # butler must never block past its own deadline
    hung = worker.is_alive()
    if hung:
        process.stop("the test gave up")
    asyncio.run(connector.aclose())
    assert not hung, f"{name}: butler was still blocked {limits.call_seconds + 15:g} s into a call"
    if caught:
        if not isinstance(caught[0], ConnectorError):
            raise caught[0]
        error = caught[0]
    else:
        lines = got
    outcome = Outcome(lines, error, bytes(process.printed).decode(errors="replace"), caplog.text, process)
    for secret in FORBIDDEN:
        assert secret not in outcome.text, f"{name}: a secret reached the connector"
    return outcome


def test_it_runs_at_all_and_sees_only_its_own_secret(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    outcome = attack("nothing", caplog=caplog)
    assert outcome.error is None and f"own secret {OWN}" in outcome.lines
    assert outcome.lines[0] != f"pid {os.getpid()}"


def test_vault_files_config_and_home_are_out_of_sight(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    butler_home = paths.butler_home()
    (butler_home / "config.toml").write_text("[vendors]\n")
    files = [butler_home / name for name in ("vault.key", "vault.log", "audit.log", "config.toml")]
    files += [Path.home() / ".bashrc", paths.state_dir() / "anchor"]
    (Path.home() / ".bashrc").write_text(f"export SECRET={PASSPHRASE}\n")
    outcome = attack("files", ";".join(map(str, files)), caplog=caplog)
    assert outcome.error is None
    reads = [line for line in outcome.lines if not line.startswith(("DENIED listing", "LISTED"))]
    assert len(reads) == len(files) and all(line.startswith("DENIED") for line in reads), reads


def test_the_environment_is_fresh(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    outcome = attack("environment", caplog=caplog)
    names = {line.partition("=")[0] for line in outcome.lines}
    assert names <= {"LANG", "LC_CTYPE", "PATH", "PYTHONDONTWRITEBYTECODE", "HOME", "PWD"}, names


def test_another_connectors_secret_is_not_there(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    outcome = attack("other-secret", "other_api_key", caplog=caplog)
    assert outcome.lines == ["DENIED other: SecretNotDeclared"]


def test_proc_shows_no_process_of_butler(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    outcome = attack("proc", str(os.getpid()), caplog=caplog)
    pids = outcome.lines[0]
    assert pids.startswith("PIDS") and str(os.getpid()) not in pids.split("[", 1)[1].replace(",", " ").split()
    assert f"DENIED /proc/{os.getpid()}/environ: FileNotFoundError" in outcome.lines


def test_no_socket_reaches_anything(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        agent = Path(os.environ["XDG_RUNTIME_DIR"]) / "agent.sock"
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(str(agent))
            listener.listen()
            outcome = attack("socket", f"127.0.0.1:{port};93.184.216.34:80;{agent}", caplog=caplog)
    assert outcome.error is None
    assert all(line.startswith("DENIED") for line in outcome.lines), outcome.lines
    assert len(outcome.lines) == 4


def test_the_keyring_is_out_of_reach(home: Vault, secret_service: str, caplog: pytest.LogCaptureFixture) -> None:
    import keyring
    keyring.set_password("butler", "data-key", KEYRING_SECRET)
    outcome = attack("keyring", "data-key", caplog=caplog)
    assert outcome.lines[0] == "BUS None"
    assert outcome.lines[1].startswith("DENIED keyring") or outcome.lines[1] == "READ keyring: None"


def test_http_reaches_only_declared_hosts_at_public_addresses(home: Vault,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    outcome = attack("http", "http://vendor.test/steal;http://undeclared.example/;http://127.0.0.1:9/",
                     caplog=caplog)
    assert len(outcome.lines) == 3 and all(line.startswith("DENIED") for line in outcome.lines)
    assert all(HostNotAllowed.__name__ in line for line in outcome.lines), outcome.lines
    assert "resolves to 127.0.0.1, which is not a public address" in outcome.lines[0]


def test_a_fork_bomb_is_contained(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    outcome = attack("fork", "5000", caplog=caplog)
    assert outcome.error is None and len(outcome.lines) == 1
    assert outcome.lines[0].startswith("STOPPED after")
    assert int(outcome.lines[0].split()[2].rstrip(":")) < LIMITS.processes
    assert attack("nothing", caplog=caplog).error is None  # and butler carries on


def test_printing_gigabytes_is_stopped(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    outcome = attack("print", "1024", caplog=caplog)  # a gigabyte
    assert outcome.error is not None and "printed more than 65536 bytes" in outcome.error.message
    assert len(outcome.printed) <= 16384


def test_sleeping_forever_is_stopped(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    limits = Limits(call_seconds=3, output_bytes=LIMITS.output_bytes, processes=LIMITS.processes)
    outcome = attack("sleep", "100000", limits=limits, caplog=caplog)
    assert isinstance(outcome.error, RetriableError) and "did not answer validate in time" in outcome.error.message


def test_memory_is_capped(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    outcome = attack("memory", "4096", caplog=caplog)
    assert outcome.error is not None and "MemoryError" in outcome.error.message


def test_what_it_writes_stays_in_its_own_tmpfs(home: Vault, caplog: pytest.LogCaptureFixture,
                                               tmp_path: Path) -> None:
    outcome = attack("files-write", caplog=caplog)
    assert outcome.lines == [f"READ /tmp/stolen: {OWN.encode()!r}"]
    assert not Path("/tmp/stolen").exists()
    for path in [*paths.butler_home().rglob("*"), *tmp_path.rglob("*")]:
        if path.is_file():
            data = path.read_bytes()
            assert not any(secret.encode() in data for secret in (OTHER, OWN)), path


def test_a_connector_that_fails_to_load_is_a_connector_error(home: Vault,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ConnectorError, match="No module named"):
        sandbox.described("butler_no_such_connector:Nope", limits=LIMITS)
    logging.getLogger(__name__).info("done")


def test_a_child_that_dies_after_reaching_the_vendor_leaves_the_outcome_open(
        home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    """Whether the vendor took the payment is not known: the error says try again (butler then asks the vendor
    with find_order), never "refused"."""
    seen: list[httpx.Request] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"paid": True})
    outcome = attack("pay-then-die", "https://vendor.test/pay", caplog=caplog,
                     transport=httpx.MockTransport(vendor), resolver=_public)
    assert [r.url.path for r in seen] == ["/pay"] and seen[0].headers["sec-gpc"] == "1"
    assert isinstance(outcome.error, RetriableError), outcome.error


def test_it_cannot_fill_memory_through_a_writable_mount(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    """Every tmpfs it may write is small (/tmp, /dev/shm); the others (/, /dev, the hidden home) are read-only."""
    folders = ["/dev/shm", "/dev", str(Path.home()), "/", "/tmp"]
    outcome = attack("fill", ";".join(folders), caplog=caplog)
    written = {folder: int(line.split(" after ")[1].split()[0]) if line.startswith("DENIED")
               else int(line.split()[1]) for folder, line in zip(folders, outcome.lines, strict=True)}
    assert written["/tmp"] <= 16 and written["/dev/shm"] <= 1, outcome.lines
    assert written["/dev"] == written[str(Path.home())] == written["/"] == 0, outcome.lines


def test_a_message_butler_cannot_parse_stops_the_child_at_once(home: Vault,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    limits = Limits(call_seconds=5, output_bytes=LIMITS.output_bytes, processes=LIMITS.processes)
    outcome = attack("nested", "100000", limits=limits, caplog=caplog)  # JSON nested past Python's recursion
    assert outcome.error is not None and "sent something butler cannot read" in outcome.error.message, outcome.error


def test_butler_never_blocks_writing_to_a_child_that_does_not_read(home: Vault,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """A megabyte answer to a child that never reads its pipe: the call still ends at its deadline."""
    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * (1024 * 1024))
    limits = Limits(call_seconds=3, output_bytes=LIMITS.output_bytes, processes=LIMITS.processes)
    outcome = attack("unread", "https://vendor.test/big", limits=limits, caplog=caplog,
                     transport=httpx.MockTransport(vendor), resolver=_public)
    assert isinstance(outcome.error, RetriableError) and "did not answer validate in time" in outcome.error.message


def test_messages_nobody_asked_for_are_not_hoarded(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    outcome = attack("chatter", "1000", caplog=caplog)
    assert outcome.lines == ["TALKING"]
    process = outcome.process
    for _ in range(200):  # its reader ends once the child is gone
        if process.gone:
            break
        threading.Event().wait(0.05)
    assert process.gone and len(process._early) <= 1, len(process._early)
    assert "chatter done" not in caplog.text


def test_a_log_flood_is_stopped(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    outcome = attack("log-flood", "2000", caplog=caplog)  # 7.8 MB of log lines
    assert outcome.error is not None and "more than 65536 bytes" in outcome.error.message, outcome.error
    logged = sum(len(r.getMessage()) for r in caplog.records if r.name.startswith("butler.connectors."))
    assert logged <= LIMITS.output_bytes + 4000, logged


def test_a_secret_the_connector_derived_and_registered_stays_out_of_every_log(
        home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    outcome = attack("log-derived", "7c1e9a", caplog=caplog)
    assert outcome.lines == ["LOGGED"]
    assert "the session token is ***" in caplog.text and "derived-session-token-7c1e9a" not in caplog.text


def test_requests_at_once_are_few(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    """Each request butler relays is held in its process (up to 16 MB) until the vendor answers: a child that
    sends many at once waits for the first to be answered instead."""
    active, peak = 0, 0

    async def vendor(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.02)
        active -= 1
        return httpx.Response(200)
    outcome = attack("burst", "https://vendor.test/slow;60", caplog=caplog, transport=httpx.MockTransport(vendor),
                     resolver=_public)
    assert outcome.lines == ["ANSWERED 60"], outcome.error
    assert peak <= 8, peak


def test_the_passphrase_file_is_hidden_in_a_bound_folder(home: Vault, caplog: pytest.LogCaptureFixture,
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A passphrase file kept beside the code the child imports (say in the virtualenv's folder) is not there."""
    prefix = tmp_path / "opt-butler"
    prefix.mkdir()
    files = [prefix / "passphrase", prefix / "new-passphrase"]
    for file in files:
        file.write_text(PASSPHRASE)
    monkeypatch.syspath_prepend(str(prefix))
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(files[0]))
    monkeypatch.setenv("BUTLER_NEW_PASSPHRASE_FILE", str(files[1]))
    limits = Limits(memory_mb=LIMITS.memory_mb - 1, output_bytes=LIMITS.output_bytes, processes=LIMITS.processes)
    outcome = attack("files", ";".join(map(str, files)), limits=limits, caplog=caplog)  # a fresh import path
    assert f"LISTED {files[0]}: ['new-passphrase', 'passphrase']" in outcome.lines or \
        f"LISTED {files[0]}: ['passphrase', 'new-passphrase']" in outcome.lines  # the folder is bound


@pytest.mark.parametrize(("given", "seen"), [("nan", None), ("inf", None), ("-5", None), ("9" * 400, None),
                                             ("7", 7.0), ("2.5", 2.5)])
def test_retry_after_is_a_time_butler_can_wait(home: Vault, caplog: pytest.LogCaptureFixture, given: str,
                                               seen: float | None) -> None:
    outcome = attack("busy", given, caplog=caplog)
    assert isinstance(outcome.error, RetriableError) and outcome.error.retry_after == seen, outcome.error


@pytest.mark.parametrize("answer", ["schema_list", "required_number", "property_model_config", "implemented_number",
                                    "signature_nested"])
def test_a_description_butler_cannot_read_is_a_connector_error(home: Vault, answer: str) -> None:
    """What an installed connector says of itself is read carefully: one that lies is a problem, never a crash."""
    with pytest.raises(ConnectorError):
        sandbox.described(f"butler_evil_describe:{answer}", limits=LIMITS)


@pytest.mark.parametrize("kind", ["junk", "log"])
def test_a_stream_of_empty_messages_is_stopped(home: Vault, caplog: pytest.LogCaptureFixture, kind: str) -> None:
    outcome = attack("junk", f"20000;{kind}", caplog=caplog)
    assert outcome.error is not None and "stopped" in outcome.error.message, outcome.error
    assert len([r for r in caplog.records if r.name.startswith("butler.connectors.")]) <= 1000


def test_what_it_says_is_one_line_of_printable_text(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    """Its log lines and errors reach butler's log and the person's terminal: no escapes, no forged lines."""
    outcome = attack("escapes", caplog=caplog)
    assert outcome.error is not None
    said = [outcome.error.message, str(outcome.error.hint)]
    said += [r.getMessage() for r in caplog.records if r.name.startswith("butler.connectors.")]
    assert len(said) == 3 and all(text.isprintable() and "passphrase changed" in text for text in said), said


def test_shared_memory_does_not_slip_past_the_memory_limit(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    outcome = attack("shm", "5", caplog=caplog)  # 640 MB, past the 512 MB limit
    assert outcome.lines == ["DENIED shmget after 0 MB: errno 1"], outcome.lines or outcome.error


def test_a_forged_host_header_never_leaves(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx.Request] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)
    outcome = attack("forged-host", "https://vendor.test/x", caplog=caplog, transport=httpx.MockTransport(vendor),
                     resolver=_public)
    assert outcome.lines == ["ANSWERED 200"], outcome.error
    assert [r.headers.get_list("host") for r in seen] == [["vendor.test"]]


def test_the_folder_butler_was_started_in_is_not_shown(home: Vault, caplog: pytest.LogCaptureFixture,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m butler` puts the working folder on sys.path (a script its own folder, ~/.local/bin say): a
    project's .env there is not the connector's to read."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text(f"API_TOKEN={PASSPHRASE}\n")
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(project))  # as `python -m` puts it
    limits = Limits(memory_mb=LIMITS.memory_mb - 2, output_bytes=LIMITS.output_bytes, processes=LIMITS.processes)
    outcome = attack("files", str(project / ".env"), limits=limits, caplog=caplog)  # a fresh import path
    assert outcome.lines[0] == f"DENIED {project / '.env'}: FileNotFoundError", outcome.lines


def test_memory_spread_over_processes_is_capped_as_a_whole(home: Vault, caplog: pytest.LogCaptureFixture) -> None:
    """RLIMIT_AS binds each process alone: where butler may make a memory cgroup, the child's processes share
    one limit (tmpfs and memfd pages included). CI runs as root, where it may."""
    if not Path("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists() and \
            not Path("/sys/fs/cgroup/cgroup.subtree_control").exists():
        pytest.fail("no memory cgroup hierarchy here: this test needs one (as CI has)")
    if os.geteuid() != 0:
        pytest.fail("a memory cgroup needs root or a delegated hierarchy: run the tests as CI does, as root")
    limits = Limits(memory_mb=LIMITS.memory_mb, call_seconds=5, output_bytes=LIMITS.output_bytes,
                    processes=LIMITS.processes)
    outcome = attack("spread", "4;240", limits=limits, caplog=caplog)  # 960 MB in 4 processes, each under 512 MB
    if outcome.error is not None:  # the kernel killed one of its processes: itself, or one it waits for
        assert "exit status 137" in outcome.error.message or "in time" in outcome.error.message, outcome.error
    else:
        assert int(outcome.lines[0].split()[1]) <= LIMITS.memory_mb, outcome.lines
