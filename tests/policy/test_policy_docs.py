"""The guide for people who write policy files documents every rule kind and every field."""

from __future__ import annotations

from policy_helpers import REPO

from butler.policy.consistency import BUILTIN_ATTRIBUTES
from butler.policy.rules import RULE_MODELS, Preference


def test_readme_documents_every_kind_and_field() -> None:
    readme = (REPO / "policies" / "README.md").read_text(encoding="utf-8")
    for kind, model in RULE_MODELS.items():
        assert f"`{kind}`" in readme, kind
        for field in model.model_fields:
            assert f"{field}" in readme, (kind, field)
    for field in Preference.model_fields:
        assert f"`{field}`" in readme, field
    for attribute in BUILTIN_ATTRIBUTES:
        assert f"`{attribute}`" in readme, attribute


def test_guide_exists() -> None:
    guide = (REPO / "docs" / "policies.md").read_text(encoding="utf-8")
    for command in ["butler policy check", "butler policy explain", "butler policy export-odrl"]:
        assert command in guide
