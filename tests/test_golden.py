"""The engine stores exactly the golden transcripts for fixed scripts (``python -m tests.golden`` rewrites them
when a change of behaviour is intended)."""

from __future__ import annotations

import json

import pytest

from tests import golden


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads(golden.GOLDEN.read_text())


def _first_difference(old: object, new: object, where: str = "") -> str:
    if type(old) is not type(new):
        return f"{where}: {old!r} != {new!r}"
    if isinstance(old, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), f"{where}.{key}")
    if isinstance(old, list):
        for index, (a, b) in enumerate(zip(old, new, strict=False)):
            if a != b:
                return _first_difference(a, b, f"{where}[{index}]")
        if len(old) != len(new):
            return f"{where}: {len(old)} items != {len(new)}"
    return f"{where}: {old!r} != {new!r}"


@pytest.mark.slow
def test_offline_transcripts_match_the_golden_ones(expected):
    runs = golden.capture_offline()
    assert set(runs) == set(expected["digests"])
    for key, record in runs.items():
        if key in expected["whole"]:
            assert record == expected["whole"][key], (
                f"{key} differs at {_first_difference(expected['whole'][key], record)}"
            )
    changed = [key for key, record in runs.items() if golden.digest(record) != expected["digests"][key]]
    assert not changed, f"{len(changed)} of {len(runs)} runs differ, e.g. {changed[:3]}"


@pytest.mark.slow
def test_llm_requests_match_the_golden_ones(expected):
    requests = golden.capture_llm_requests()
    for key, record in requests.items():
        old = expected["llm_requests"][key]
        assert record == old, f"{key} differs at {_first_difference(old, record)}"
