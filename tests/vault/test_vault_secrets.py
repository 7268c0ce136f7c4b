"""Secrets never reach the terminal or the logs: passphrases, the data key, connector credentials."""

from __future__ import annotations

import base64
import io
import json
import logging
from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, passphrase_file, run_butler, run_main

from butler.log import REDACTED, RedactingFilter, redact, register_secret
from butler.models import ConnectorSecret
from butler.vault import Vault

NEW_PASSPHRASE = "a brand new passphrase 42"
WRONG_PASSPHRASE = "definitely-wrong-passphrase"
CONNECTOR_SECRET = "sk_live_51HcONNECTORsecretVALUE9x"


def _forms(key: bytes) -> list[str]:
    return [key.hex(), key.hex().upper(), base64.b64encode(key).decode(), base64.urlsafe_b64encode(key).decode()]


@pytest.mark.slow
def test_no_secret_in_any_output_at_debug_level(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    new_pw = passphrase_file(tmp_path / "secrets", NEW_PASSPHRASE, "new")
    wrong = passphrase_file(tmp_path / "secrets", WRONG_PASSPHRASE, "wrong")
    backup = tmp_path / "backup.bak"
    outputs: list[str] = []
    keys: list[bytes] = []

    def butler(*args: str, passphrase: Path = pw, ok: bool = True, stdin: str = "",
               subprocess: bool = False) -> None:
        run = run_butler if subprocess else run_main
        result = run("-vv", *args, env={"BUTLER_PASSPHRASE_FILE": str(passphrase),
                                        "BUTLER_NEW_PASSPHRASE_FILE": str(new_pw)}, stdin=stdin)
        outputs.append(result.stdout + result.stderr)
        assert (result.returncode == 0) == ok, result.stderr

    butler("init", subprocess=True)
    keys.append(Vault.key_from_passphrase(butler_env, PASSPHRASE))
    secret = ConnectorSecret(connector_id="acme-energy", name="api_token", value=CONNECTOR_SECRET)
    butler("vault", "put", "connector-secrets", "acme-energy/api_token", stdin=secret.model_dump_json())
    butler("vault", "status")
    butler("vault", "list")
    butler("vault", "list", "connector-secrets")
    butler("audit", "show", "--json")
    butler("vault", "status", passphrase=wrong, ok=False)
    butler("vault", "status", passphrase=wrong, ok=False, subprocess=True)
    butler("vault", "export", str(backup))
    butler("vault", "passwd")
    butler("vault", "status", passphrase=pw, ok=False)  # the old passphrase no longer works
    butler("vault", "rotate", passphrase=new_pw)
    keys.append(Vault.key_from_passphrase(butler_env, NEW_PASSPHRASE))
    butler("vault", "import", "--replace", str(backup))  # the backup opens with the passphrase of its day
    butler("vault", "compact")
    butler("audit", "verify")

    assert keys[0] != keys[1]
    secrets = [PASSPHRASE, NEW_PASSPHRASE, WRONG_PASSPHRASE, CONNECTOR_SECRET, *_forms(keys[0]), *_forms(keys[1])]
    text = "\n".join(outputs)
    for secret_value in secrets:
        assert secret_value not in text, f"a secret appeared in the output: {secret_value[:6]}…"
    # the record itself is intact: butler hid it from the output, not from the vault
    with Vault(butler_env, keys[0]) as vault:
        stored = vault.get("connector-secrets", "acme-energy/api_token")
        assert ConnectorSecret.model_validate(stored.data).value.get_secret_value() == CONNECTOR_SECRET


def test_connector_secret_model_hides_its_value() -> None:
    secret = ConnectorSecret(connector_id="acme", name="token", value=CONNECTOR_SECRET)
    assert CONNECTOR_SECRET not in repr(secret)
    assert CONNECTOR_SECRET not in str(secret)
    assert CONNECTOR_SECRET not in str(secret.model_dump())
    assert json.loads(secret.model_dump_json())["value"] == CONNECTOR_SECRET  # only for the vault


@pytest.fixture
def redacted_log() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("butler.tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_redacting_filter_covers_arguments_and_exceptions(redacted_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = redacted_log
    token = "registered-secret-9f8e7d"
    register_secret(token)
    logger.debug("using %s for %s", token, "acme")
    logger.info("connecting with Authorization: Bearer abc.def.ghi-jkl")
    logger.info("url was https://x.test/?api_key=K3Y-VALUE&page=2 password=hunter22")
    logger.info('payload {"token": "tok-VALUE-123"}')
    try:
        raise RuntimeError(f"vendor refused {token} (password=opensesame)")
    except RuntimeError:
        logger.exception("call failed")
    logger.warning("stack of %s", token, stack_info=True)
    text = stream.getvalue()
    for leaked in (token, "abc.def.ghi-jkl", "K3Y-VALUE", "hunter22", "tok-VALUE-123", "opensesame"):
        assert leaked not in text, leaked
    assert "RuntimeError: vendor refused ***" in text
    assert "Traceback" in text  # the exception is still shown, only redacted
    assert REDACTED in text
    assert "page=2" in text and "acme" in text


def test_redacting_filter_survives_a_broken_format_string(
        redacted_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = redacted_log
    register_secret("another-secret-value")
    logger.error("broken %s %s", "another-secret-value")
    assert "another-secret-value" not in stream.getvalue()


def test_redact_replaces_longest_secret_first() -> None:
    register_secret("abcd-1234")
    register_secret("abcd-1234-efgh-5678")
    assert redact("x abcd-1234-efgh-5678 y") == f"x {REDACTED} y"
    assert redact("short ab stays") == "short ab stays"
