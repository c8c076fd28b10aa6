"""The dated-history cases (tests/cases/history.yaml) through the public API: each date change has a
day-before and a day-of case, and every case names its source."""

from __future__ import annotations

import pytest
from conftest import load_cases
from test_cases import _merge

import carveout

HIST = load_cases("history.yaml")


@pytest.mark.parametrize("case", HIST["cases"], ids=[c["name"] for c in HIST["cases"]])
def test_history_case(case):
    assert case.get("source"), "every history case names its source"
    d = carveout.check(_merge(HIST["base"], case["shipment"]))
    exp = case["expect"]
    ids = [r.rule for r in d.reasons]
    assert d.license_required == exp["license_required"], (d.license_required, ids, d.missing)
    for r in exp.get("reasons_contain", []):
        assert r in ids, ids
    for r in exp.get("reasons_exclude", []):
        assert r not in ids, ids
    for m in exp.get("missing_contains", []):
        assert m in d.missing, d.missing
    if d.license_required == "needs_review":
        assert d.missing, "a needs_review names what is missing"
