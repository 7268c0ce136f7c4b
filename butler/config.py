"""`config.toml` in BUTLER_HOME, validated by pydantic. Errors name the file, the line and the field.

`butler config show|get|set` goes through `settings`, `get_setting` and `set_setting`: a setting is named by its
section and field (`daemon.backup_days`), a new value is validated by the same models before anything is written,
and the file is rewritten atomically (0600), keeping its comments and every other line as they were.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from butler import paths
from butler.atomic import atomic_write
from butler.errors import ConfigError

__all__ = [
    "Config",
    "ConnectorsConfig",
    "DaemonConfig",
    "MailConfig",
    "Setting",
    "TermsConfig",
    "VaultConfig",
    "VendorsConfig",
    "get_setting",
    "load_config",
    "set_setting",
    "settings",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VaultConfig(_Section):
    keyring: Literal["auto", "secretservice", "macos", "windows", "none"] = Field(
        default="auto", description="where the vault key is kept for unattended runs: auto, secretservice, macos, "
                                    "windows or none")
    lock_timeout_seconds: float = Field(default=10.0, gt=0, le=300,
                                        description="how long to wait for another process writing the vault")


class DaemonConfig(_Section):
    mail_sweep_minutes: int = Field(default=15, ge=1, description="minutes between mail sweeps")
    renewal_sweep_hours: int = Field(default=24, ge=1, description="hours between looks at renewing contracts")
    intent_watch_minutes: int = Field(default=60, ge=1, description="minutes between casts of open intents")
    audit_verify_hours: int = Field(default=24, ge=1, description="hours between audit log checks")
    backup_days: int = Field(default=7, ge=1, description="days between vault backups")


class VendorsConfig(_Section):
    # the most one whole operation with a vendor may take: validating a connector, a checkout
    deadline_seconds: float = Field(default=60.0, gt=0, le=3600, allow_inf_nan=False,
                                    description="the most one operation with a vendor may take, in seconds")


class ConnectorsConfig(_Section):
    # installed connectors run in bubblewrap (butler.sandbox); without it, only the trusted ones run, in process
    sandbox: Literal["auto", "off"] = Field(default="auto", description="run installed connectors in the sandbox "
                                                                         "(auto), or all in butler's process (off)")
    trusted: tuple[str, ...] = Field(default=(), description="connectors that may run in butler's process when "
                                                             "the sandbox is not available")
    memory_mb: int = Field(default=1024, ge=256, le=16384, description="memory a sandboxed connector may use")
    cpu_seconds: int = Field(default=120, ge=1, le=3600, description="CPU time a sandboxed connector may use")
    call_seconds: float = Field(default=300.0, gt=0, le=3600, allow_inf_nan=False,
                                description="the most one call into a sandboxed connector may take, in seconds")
    output_kb: int = Field(default=1024, ge=1, le=1024 * 1024, description="what a sandboxed connector may print")


class TermsConfig(_Section):
    # tests and local setups only: reach a MyTerms vendor at a loopback address written in its URL (127.0.0.1, ::1)
    allow_loopback: bool = Field(default=False, description="tests only: reach MyTerms vendors on 127.0.0.1")


class MailConfig(_Section):
    # engagement is read from the mailbox without changing it: \Seen, \Flagged, and replies in the Sent folder
    engagement: Literal["keep-read", "ignore"] = Field(
        default="keep-read", description="bulk senders whose mail you read stay in the inbox (keep-read), or "
                                         "engagement is not looked at (ignore)")
    read_share: float = Field(default=0.3, gt=0, le=1, description="share of a bulk sender's mail you read or "
                                                                    "flag for it to stay")
    read_at_least: int = Field(default=2, ge=1, description="messages you read or flagged before a sender counts "
                                                            "as read")
    unopened_after: int = Field(default=5, ge=0, description="a newsletter sender you opened none of this many "
                                                             "messages from leaves the inbox (0: never)")
    engagement_window: int = Field(default=2000, ge=0, le=100_000, description="newest messages per folder read "
                                                                               "for engagement")


class Config(_Section):
    vault: VaultConfig = VaultConfig()
    daemon: DaemonConfig = DaemonConfig()
    vendors: VendorsConfig = VendorsConfig()
    connectors: ConnectorsConfig = ConnectorsConfig()
    terms: TermsConfig = TermsConfig()
    mail: MailConfig = MailConfig()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config: {exc}", location=str(path)) from None


def load_config(path: Path | None = None) -> Config:
    """Read and validate the config file; a missing file means every default."""
    path = path or paths.config_path()
    source = _read(path)
    if source is None:
        return Config()
    return _parse(path, source)


def _parse(path: Path, source: str) -> Config:
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else None)
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"not valid TOML: {exc.args[0] if exc.args else exc}", location=where) from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        from butler.sourcemap import SourceMap  # only when there is an error to place

        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        written_in = SourceMap(source)
        # None: no part of it is written in the file; a section written as an array of tables ([[vault]]) is
        # known by its first element
        written = written_in.lookup(first["loc"]) or written_in.lookup((*first["loc"][:1], 0))
        where = f"{path}:{written.line}" if written else str(path)
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{field}: {first['msg']}{more}", "Fix the field, or delete it to use the default.",
                          location=where) from None


# -- one setting at a time: `butler config` ------------------------------------------------------------------
_SECRET_NAME = re.compile(r"password|secret|token|api_key|passphrase", re.IGNORECASE)


class Setting(BaseModel):
    key: str  # section.field
    value: Any
    default: Any
    description: str
    secret: bool = False

    @property
    def shown(self) -> str:
        """The value as TOML writes it, or a mask for a secret that is set."""
        if self.secret and self.value not in (None, ""):
            return "********"
        return _toml_value(self.value)


def _fields() -> dict[str, tuple[str, str, Any]]:
    """Every setting's key → (section, field, pydantic FieldInfo)."""
    out: dict[str, tuple[str, str, Any]] = {}
    for section, info in Config.model_fields.items():
        model = info.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for name, field in model.model_fields.items():
            out[f"{section}.{name}"] = (section, name, field)
    return out


def _is_secret(name: str, field: Any) -> bool:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    return bool(extra.get("secret")) or bool(_SECRET_NAME.search(name))


def _describe(field: Any) -> str:
    if field.description:
        return str(field.description)
    annotation = field.annotation
    choices = getattr(annotation, "__args__", None)
    if choices and all(isinstance(c, str) for c in choices):
        return "one of " + ", ".join(choices)
    return getattr(annotation, "__name__", str(annotation))


def settings(config: Config) -> list[Setting]:
    """Every setting with its value in `config` and its default, in the order of the models."""
    out = []
    for key, (section, name, field) in _fields().items():
        out.append(Setting(key=key, value=getattr(getattr(config, section), name), default=field.default,
                           description=_describe(field), secret=_is_secret(name, field)))
    return out


def _known(key: str) -> tuple[str, str, Any]:
    fields = _fields()
    if key not in fields:
        close = [k for k in fields if key.split(".")[-1] in k or k.split(".")[-1] in key]
        raise ConfigError(f"{key}: no such setting",
                          f"Did you mean {' or '.join(close)}?" if close else
                          "`butler config show` lists every setting.")
    return fields[key]


def get_setting(config: Config, key: str) -> Setting:
    """The setting `key` (`section.field`); ConfigError naming it when there is none."""
    _known(key)
    return next(s for s in settings(config) if s.key == key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if value is None:
        return '""'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string is a JSON string


def _parse_value(text: str) -> Any:
    """A value as typed on the command line: a TOML literal (`15`, `2.5`, `true`, `"x"`, `["a", "b"]`), else
    plain text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$")


def _edited(source: str, section: str, name: str, value: Any) -> str:
    """`source` with `name = value` in `[section]`: the line replaced where it is, else added to the section,
    else a new section at the end. Every other line stays as it was."""
    lines = source.splitlines()
    line_of = f"{name} = {_toml_value(value)}"
    start = next((i for i, line in enumerate(lines) if (m := _HEADER.match(line)) and m.group(1) == section), None)
    if start is None:
        tail = [""] if lines and lines[-1].strip() else []
        return "\n".join([*lines, *tail, f"[{section}]", line_of]) + "\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    key = re.compile(rf"^\s*{re.escape(name)}\s*=")
    for i in range(start + 1, end):
        if key.match(lines[i]):
            lines[i] = line_of
            return "\n".join(lines) + "\n"
    insert = end
    while insert > start + 1 and not lines[insert - 1].strip():
        insert -= 1  # before the blank lines that end the section
    lines.insert(insert, line_of)
    return "\n".join(lines) + "\n"


def set_setting(key: str, text: str, path: Path | None = None) -> Config:
    """Set `key` to the value `text` in the config file (created when missing), validated with the models first;
    the file is replaced atomically with mode 0600. Errors name the key, or the file and line of a file that is
    already wrong (nothing is written then)."""
    path = path or paths.config_path()
    section, name, _ = _known(key)
    source = _read(path)
    if source is not None:
        _parse(path, source)  # a file already wrong is reported where it is wrong, not overwritten
    value = _parse_value(text)
    raw = tomllib.loads(source or "")
    raw.setdefault(section, {})
    if not isinstance(raw[section], dict):
        raise ConfigError(f"{section} is not a table", location=str(path))
    raw[section][name] = value
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        first = next((e for e in exc.errors() if tuple(e["loc"][:2]) == (section, name)), exc.errors()[0])
        raise ConfigError(f"{key}: {first['msg']} (got {text!r})", "Nothing was written.") from None
    new_source = _edited(source or "", section, name, value)
    if _parse(path, new_source) != config:  # the edit must say exactly what was validated
        raise ConfigError(f"{key}: could not be written into {path} safely", "Edit the file by hand.")
    paths.ensure_home(path.parent)
    atomic_write(path, new_source.encode("utf-8"), 0o600)
    return config
