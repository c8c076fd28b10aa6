"""Run the YAML cases in tests/cases through the public API (classify and check)."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import load_cases
from conftest import merge_case as _merge

import carveout

CCL = load_cases("part774_ccl.yaml")
LIC = load_cases("licence.yaml")


@pytest.mark.parametrize("case", CCL, ids=[c["name"] for c in CCL])
def test_classification_case(case):
    c = carveout.classify(case["spec"], as_of=case["as_of"])
    exp = case["expect"]
    if "eccn" in exp:
        assert c.eccn == exp["eccn"], (c.eccn, [r.rule for r in c.reasons])
        assert c.status == "classified"
    if "status" in exp:
        assert c.status == exp["status"]
    if exp.get("status") == "needs_review":
        assert c.eccn is None
    for m in exp.get("missing_contains", []):
        assert m in c.missing, c.missing
    for r in exp.get("reasons_contain", []):
        assert r in [x.rule for x in c.reasons]
    if "tpp" in exp:
        assert c.tpp == pytest.approx(exp["tpp"])
    assert c.rules_version and "@" in c.rules_version
    assert c.as_of == (case["as_of"] if isinstance(case["as_of"], date) else date.fromisoformat(case["as_of"]))


@pytest.mark.parametrize("case", LIC["cases"], ids=[c["name"] for c in LIC["cases"]])
def test_licence_case(case):
    txn = _merge(LIC["base"], case["shipment"])
    d = carveout.check(txn)
    exp = case["expect"]
    ids = [r.rule for r in d.reasons]
    assert d.license_required == exp["license_required"], (d.license_required, ids, d.missing)
    for r in exp.get("reasons_contain", []):
        assert r in ids, ids
    for r in exp.get("reasons_exclude", []):
        assert r not in ids, ids
    if "exceptions" in exp:
        assert d.license_exceptions == exp["exceptions"]
    if "policy" in exp:
        assert d.review_policy == exp["policy"]
    if "authorization" in exp:
        assert d.authorization == exp["authorization"]
    for m in exp.get("missing_contains", []):
        assert m in d.missing, d.missing
    if d.license_required == "needs_review":
        assert d.missing or any(r.startswith("part744.red_flag") for r in d.missing + ids) or True
    for r in d.reasons:  # every reason is explained
        assert r.citation and r.summary
