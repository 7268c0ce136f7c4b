"""`butler bench negotiate` runs, prints every strategy and never deals below the reserve or against a policy."""

from __future__ import annotations

from butler.bench.negotiate import run


def test_bench_prints_numbers_and_keeps_the_guard_rails() -> None:
    lines: list[str] = []
    assert run(rounds=30, say=lines.append) == 0
    text = "\n".join(lines)
    for name in ("boulware", "conceder", "tit-for-tat", "hardliner", "energy", "phone", "laptop"):
        assert name in text
    assert text.endswith(": ok")
