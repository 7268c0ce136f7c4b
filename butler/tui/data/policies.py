"""Policy files as the TUI shows them: each checked on its own, errors in place, rule text."""

from __future__ import annotations

import json
from pathlib import Path

from butler.errors import ConfigError
from butler.tui.data.views import PolicyFileView

__all__ = ["policy_views", "rule_text"]



def policy_views(directory: Path) -> list[PolicyFileView]:
    """Each policy file checked on its own, then all together; errors keep their file:line."""
    from butler.policy import load_policies, policy_files

    if not directory.is_dir():
        return [PolicyFileView(str(directory), False, "no policy directory yet: copy the example packs here",
                               None)]
    try:
        files = policy_files([directory])
    except ConfigError as exc:
        return [PolicyFileView(str(directory), False, exc.message, exc.location)]
    views = []
    for path in files:
        try:
            loaded = load_policies([path])
        except ConfigError as exc:
            views.append(PolicyFileView(path.name, False, exc.message, exc.location))
            continue
        rules = [(p.rule.id, str(getattr(p.rule, "kind", "")), str(getattr(p.rule, "action", "")), p.location)
                 for p in loaded.rules]
        rules += [(p.preference.id, "preference", "prefer", p.location) for p in loaded.preferences]
        views.append(PolicyFileView(path.name, True, f"{len(loaded.rules)} rules, {len(loaded.preferences)} "
                                    "preferences", None, rules))
    if files and all(v.ok for v in views):
        try:
            load_policies(files)
        except ConfigError as exc:  # each file is fine alone, not together (duplicate ids, contradictions)
            views.append(PolicyFileView("(all files together)", False, exc.message, exc.location))
    return views


def rule_text(file: Path, rule_id: str) -> str:
    """One rule or preference of a policy file in full, with where it is written."""
    from butler.policy import load_policies

    try:
        loaded = load_policies([file])
    except ConfigError as exc:
        return exc.message
    placed = loaded.rule(rule_id)
    if placed is not None:
        body = placed.rule.model_dump(mode="json", exclude_none=True)
        return f"{placed.location}\n{placed.rule.reason}\n\n" + json.dumps(body, indent=2, ensure_ascii=False)
    for pref in loaded.preferences:
        if pref.preference.id == rule_id:
            body = pref.preference.model_dump(mode="json", exclude_none=True)
            return f"{pref.location}\n\n" + json.dumps(body, indent=2, ensure_ascii=False)
    return f"no rule {rule_id}"
