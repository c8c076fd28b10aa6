"""Issue #12 review findings (tests/cases/review_2026.yaml): licence and classification cases, each sourced."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import load_cases
from conftest import merge_case as _merge

import carveout
from carveout import catalogue_data

REVIEW = load_cases("review_2026.yaml")
CASES = REVIEW["cases"]


def test_every_case_names_its_source_and_finding():
    for c in CASES:
        assert c.get("source") and c.get("item"), c["name"]
    assert {c["item"] for c in CASES} >= {2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_review_case(case):
    exp = case["expect"]
    if "spec" in case:
        c = carveout.classify(case["spec"], as_of=case["as_of"])
        if "eccn" in exp:
            assert c.eccn == exp["eccn"], (c.eccn, c.missing, [r.rule for r in c.reasons])
        if "status" in exp:
            assert c.status == exp["status"], (c.status, c.eccn)
        for m in exp.get("missing_contains", []):
            assert m in c.missing, c.missing
        return
    d = carveout.check(_merge(REVIEW["base"], case["shipment"]))
    ids = [r.rule for r in d.reasons]
    assert d.license_required == exp["license_required"], (d.license_required, ids, d.missing)
    for r in exp.get("reasons_contain", []):
        assert r in ids, ids
    for r in exp.get("reasons_exclude", []):
        assert r not in ids, ids
    if "exceptions" in exp:
        assert d.license_exceptions == exp["exceptions"], (d.license_exceptions, ids)
    if "policy" in exp:
        assert d.review_policy == exp["policy"], (d.review_policy, ids)
    if "authorization" in exp:
        assert d.authorization == exp["authorization"]
    for m in exp.get("missing_contains", []):
        assert m in d.missing, d.missing
    for r in d.reasons:
        assert r.citation and r.summary


def test_catalogue_systems_classify_from_their_gpus():
    """Issue #12 item 13: the DGX/HGX rows carry no IC figures of their own; they take the contained GPU's."""
    cat = catalogue_data.chips()
    by_name = {r["item_name"]: r for r in cat.to_dicts()}
    for system, gpu in (("NVIDIA DGX H100", "NVIDIA H100 SXM"), ("NVIDIA HGX H20 (8-GPU board)", "NVIDIA H20")):
        s, g = by_name[system], by_name[gpu]
        assert s["contains"] == gpu
        for col in ("tpp", "die_area_mm2", "marketed_for_datacenter", "interconnect_gb_s"):
            assert s[col] == g[col], (system, col)
    out = carveout.evaluate(cat.filter(cat["item_kind"] == "computer"), as_of=date(2024, 6, 1),
                            screen=False)
    eccn = dict(zip(out["item_name"], out["eccn"], strict=True))
    assert eccn["NVIDIA DGX H100"] == "4A090.a"
    assert eccn["NVIDIA HGX H20 (8-GPU board)"] == "not 3A090/4A090"
