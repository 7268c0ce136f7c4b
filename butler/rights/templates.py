"""Request letters rendered from the company database's templates.

The templates (datenanfragen.de's letter generator format) have two constructs: `[flag>text]` keeps `text` only
when `flag` is set, and `{variable}` is replaced by its value. A `{…}` holding prose (say, "Description of the
problem, e.g.: …") is a gap the writer fills: butler fills them in order from `prose`, else with the example the
template gives after its colon. `[optional: …]` sentences and `<italic>` marks are dropped: the letter is plain
text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["ARTICLES", "KINDS", "LABELS", "Rendered", "identity_block", "render", "template_name"]

KINDS = ("access", "rectification", "erasure", "objection")
ARTICLES = {"access": "15", "rectification": "16", "erasure": "17", "objection": "21"}
_FLAG = re.compile(r"\[([a-z_]+)>((?:[^\[\]]|\[[^\[\]]*\])*)\]", re.DOTALL)
_OPTIONAL = re.compile(r"\s*\[[^\[\]>]{1,40}:[^\[\]>]*\]")
_VARIABLE = re.compile(r"\{([^{}]+)\}")
_MARK = re.compile(r"</?(?:italic|bold)>")

# labels of the identifying fields, in the languages butler writes
LABELS: dict[str, dict[str, str]] = {
    "en": {"name": "Name", "email": "E-mail", "address": "Address", "customer_number": "Customer number",
           "birthday": "Date of birth", "phone": "Phone"},
    "de": {"name": "Name", "email": "E-Mail", "address": "Adresse", "customer_number": "Kundennummer",
           "birthday": "Geburtsdatum", "phone": "Telefon"},
    "fr": {"name": "Nom", "email": "Adresse e-mail", "address": "Adresse", "customer_number": "Numéro de client",
           "birthday": "Date de naissance", "phone": "Téléphone"},
}


@dataclass(frozen=True)
class Rendered:
    """A rendered letter: its language (the template's) and its text."""

    language: str
    text: str


def template_name(kind: str, custom: Mapping[str, str]) -> str:
    """The template a company's request of `kind` uses: its custom one, else the default."""
    if kind in ("admonition", "complaint"):
        return kind
    return custom.get(kind) or f"{kind}-default"


def identity_block(fields: Mapping[str, str], language: str) -> str:
    """The identifying data the person chose, one `Label: value` line each, in `language` (else English)."""
    labels = LABELS.get(language, LABELS["en"])
    lines = []
    for key, value in fields.items():
        value = " ".join(str(value).split()) if key != "address" else ", ".join(str(value).splitlines())
        if value:
            lines.append(f"{labels.get(key, key.replace('_', ' ').capitalize())}: {value}")
    return "\n".join(lines) + ("\n" if lines else "")


def render(text: str, *, flags: Mapping[str, bool], variables: Mapping[str, str],
           prose: Sequence[str | None] = ()) -> str:
    """`text` with its flags settled, its variables replaced and its prose gaps filled (see the module doc)."""
    def settle(match: re.Match[str]) -> str:
        return match.group(2) if flags.get(match.group(1)) else ""

    previous = None
    while previous != text:  # flags may hold flags
        previous, text = text, _FLAG.sub(settle, text)
    text = _OPTIONAL.sub("", text)
    gaps = iter(prose)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return variables[name]
        if " " not in name:
            return match.group(0)  # an unknown variable stays visible rather than vanishing
        given = next(gaps, None)
        if given is not None:
            return given
        example = name.partition(":")[2].strip()
        return example or f"[{name}]"

    text = _VARIABLE.sub(fill, text)
    text = _MARK.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
