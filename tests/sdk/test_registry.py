"""Discovery by entry points, opt-in enabling (validated first), secrets in the vault, the CLI, the scaffold."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from helpers.vaultkit import make_vault, passphrase_file

from butler import paths, registry
from butler.cli import main
from butler.errors import UsageError
from butler.sdk import AuthError, FatalError
from butler.testing import live_server
from butler.vault import Vault

ROOT = Path(__file__).resolve().parents[2]
CONNECTOR_SRC = ROOT / "connectors" / "example-vendors" / "src"


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site directory with the example-vendors connector and a broken one registered as entry points; discovery
    sees only these, whatever connector packages are installed where the tests run."""
    site = tmp_path / "site"
    for dist, lines in {"butler_example_vendors-0.1.0": "example-vendors = butler_example_vendors:"
                                                          "ExampleVendorConnector",
                        "butler_broken-0.0.1": "broken = butler_broken_does_not_exist:Connector"}.items():
        info = site / f"{dist}.dist-info"
        info.mkdir(parents=True)
        name, version = dist.rsplit("-", 1)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[butler.connectors]\n{lines}\n")
    for path in (str(site), str(CONNECTOR_SRC), str(ROOT)):
        monkeypatch.syspath_prepend(path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(CONNECTOR_SRC), str(ROOT)]))

    def site_entry_points(*, group: str) -> list[metadata.EntryPoint]:
        return [ep for dist in metadata.distributions(path=[str(site)]) for ep in dist.entry_points
                if ep.group == group]

    monkeypatch.setattr(registry, "entry_points", site_entry_points)
    return site


@pytest.fixture
def vendor() -> Iterator[tuple[str, str]]:
    from examples.vendors import make_app
    from examples.vendors import vendor as spec_of
    spec = spec_of("mobile")
    with live_server(make_app(spec)) as url:
        yield url, spec.api_key


@pytest.fixture
def vault(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Vault]:
    with make_vault(butler_env) as v:
        monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "pp")))
        yield v


def test_listing_does_not_import_and_a_broken_plugin_is_a_warning(plugins: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    assert [i.id for i in registry.installed()] == ["broken", "example-vendors"]
    assert "butler_broken_does_not_exist" not in sys.modules
    loaded, problems = registry.load_all()
    assert list(loaded) == ["example-vendors"]
    assert [p.id for p in problems] == ["broken"] and "failed to import" in caplog.text


def test_enable_validates_first_and_stores_only_then(plugins: Path, vendor: tuple[str, str], vault: Vault) -> None:
    url, key = vendor
    cls = registry.load("example-vendors")
    with pytest.raises(UsageError, match="not enabled"):
        registry.open_connector(vault, "example-vendors")
    with pytest.raises(AuthError):
        registry.enable(vault, cls, settings={"base_url": url}, secrets={"api_key": "wrong-key-123"})
    assert registry.enabled_ids(vault) == set() and registry.stored_secret_names(vault, "example-vendors") == set()
    with pytest.raises(UsageError, match="does not declare"):
        registry.enable(vault, cls, settings={"base_url": url}, secrets={"bank_pin": "1234"})
    registry.enable(vault, cls, settings={"base_url": url}, secrets={"api_key": key})
    assert registry.enabled_ids(vault) == {"example-vendors"}
    registry.check(vault, "example-vendors")
    stored = vault.get(registry.SECRETS_COLLECTION, "example-vendors/api_key")
    assert stored is not None and stored.data["value"] == key  # inside the encrypted vault only
    assert registry.disable(vault, "example-vendors", forget_secrets=True)
    assert registry.enabled_ids(vault) == set() and registry.stored_secret_names(vault, "example-vendors") == set()


def test_cli_list_about_enable_check_disable(plugins: Path, vendor: tuple[str, str], vault: Vault,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    url, key = vendor
    vault.close()
    assert main(["connectors", "about", "example-vendors"]) == 0
    assert "allowed hosts  127.0.0.1" in capsys.readouterr().out
    monkeypatch.setenv("BUTLER_CONNECTOR_SECRET_API_KEY", key)
    assert main(["connectors", "enable", "example-vendors", "--set", f"base_url={url}"]) == 0
    assert main(["connectors", "check", "example-vendors"]) == 0
    assert main(["connectors", "list"]) == 0
    out, err = capsys.readouterr()
    assert "enabled  example-vendors" in out and "disabled broken" in out and "warning:" in err
    assert key not in out + err
    assert main(["connectors", "disable", "example-vendors"]) == 0
    assert main(["connectors", "check", "example-vendors"]) == 2
    assert "not enabled" in capsys.readouterr().err


@pytest.mark.slow
def test_scaffolded_connector_passes_its_generated_tests(tmp_path: Path) -> None:
    assert main(["connectors", "new", "acme-energy", "--dir", str(tmp_path)]) == 0
    package = tmp_path / "butler-acme-energy"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package / "src"), str(package / "tests")])}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W",
                             "ignore::DeprecationWarning", str(package / "tests")], cwd=package, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "13 passed" in result.stdout
    with pytest.raises(UsageError):
        from butler.sdk.scaffold import scaffold
        scaffold("acme-energy", tmp_path)


def test_a_provided_connector_is_listed_enabled_and_opened_but_never_replaces_an_installed_one(
        plugins: Path, vendor: tuple[str, str], vault: Vault) -> None:
    from butler_example_vendors import ExampleVendorConnector

    url, key = vendor
    manifest = ExampleVendorConnector.manifest.model_copy(update={"id": "embedded-mobile"})
    cls = type("EmbeddedMobile", (ExampleVendorConnector,), {"manifest": manifest})
    registry.provide(cls)
    try:
        listed = {item.id: item for item in registry.installed()}
        assert listed["embedded-mobile"].distribution is None and "example-vendors" in listed
        assert registry.load("embedded-mobile") is cls
        registry.enable(vault, cls, settings={"base_url": url}, secrets={"api_key": key})
        assert registry.open_connector(vault, "embedded-mobile").ctx.settings.base_url == url  # type: ignore[attr-defined]
        clash = type("Clash", (ExampleVendorConnector,), {})
        with pytest.raises(UsageError, match="installed already"):
            registry.provide(clash)  # the installed example-vendors id
        installed = registry.load("example-vendors")  # the installed one, run in the sandbox
        assert getattr(installed, "target", None) == "butler_example_vendors:ExampleVendorConnector"
    finally:
        registry.withdraw("embedded-mobile")
    assert "embedded-mobile" not in {item.id for item in registry.installed()}
    with pytest.raises(UsageError, match="no connector 'embedded-mobile' is installed"):
        registry.load("embedded-mobile")


def test_without_the_sandbox_only_trusted_connectors_run_and_in_process(
        plugins: Path, butler_env: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from butler_example_vendors import ExampleVendorConnector

    from butler import sandbox

    monkeypatch.setattr(sandbox, "available", lambda: "bubblewrap (bwrap) is not installed")
    with pytest.raises(FatalError, match="only in its sandbox") as refused:
        registry.load("example-vendors")
    assert "connectors.trusted" in (refused.value.hint or "")
    with pytest.raises(FatalError):
        registry.load("example-vendors")
    assert caplog.text.count("connectors run without a sandbox: bubblewrap (bwrap) is not installed") == 1
    config = paths.config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[connectors]\ntrusted = ["example-vendors"]\n')
    assert registry.load("example-vendors") is ExampleVendorConnector  # trusted: in butler's process
    monkeypatch.setattr(sandbox, "available", lambda: None)
    config.write_text('[connectors]\nsandbox = "off"\n')
    assert registry.load("example-vendors") is ExampleVendorConnector  # the person turned the sandbox off
