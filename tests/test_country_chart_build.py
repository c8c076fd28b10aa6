"""The Country Chart build keeps every Reason for Control the CCL states (issue #12 item 1).

The build runs on the real eCFR snapshot; then every stated control of every entry is checked two
ways: it has a scope the Country Chart rule evaluates (or a named rule that does, or needs_review),
and, run through the engine for one destination inside its scope, it never answers "no".
"""

from __future__ import annotations

import importlib.util
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from carveout.engine import evaluate
from carveout.rules.params import params_at
from carveout.rules.part738 import controls_on, destinations
from carveout.rules.registry import all_rules

ECFR = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecfr"
if not ECFR.exists():
    ECFR = Path("/work/shared/data/ecfr")
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_country_chart.py"
KINDS = ("column", "destinations", "groups", "countries", "worldwide", "handled_by", "unresolved", "none", "defer")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    pytest.importorskip("pycountry")
    spec = importlib.util.spec_from_file_location("build_country_chart", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path_factory.mktemp("chart") / "country_chart.yaml"
    mod.main(ECFR, out)
    doc = yaml.safe_load(out.read_text())
    (start,) = doc["ccl_column_controls"]["values"]
    return doc["ccl_column_controls"]["values"][start]["value"], json.loads((ECFR / "ccl.json").read_text())


def test_every_stated_control_is_kept_with_a_scope(built):
    controls, ccl = built
    for e in ccl["entries"]:
        stated = e.get("countryChart") or []
        kept = controls.get(e["eccn"], [])
        assert len(kept) == len(stated), (e["eccn"], [c["countryChart"] for c in stated], kept)
        for c in kept:
            assert any(k in c for k in KINDS), (e["eccn"], c)


def test_the_shipped_chart_is_the_build_output(built):
    controls, _ = built
    assert params_at(date(2026, 7, 23)).ccl_column_controls == controls


def test_worldwide_and_macau_d5_scopes_are_not_dropped(built):
    controls, _ = built
    assert any(c.get("worldwide") for c in controls["3A901"])  # 742.4(a)(5), 89 FR 72926
    assert any(c.get("groups") == ["D:5"] for c in controls["3D992"])  # Macau or D:5, Dec 2024
    assert any("D:1" in c.get("groups", []) for c in controls["4D090"])  # 742.6(a)(6)(iii)


def _handled_rules_exist(day: date) -> None:
    rules = {r.id: r for r in all_rules()}
    for eccn, items in controls_on(params_at(day)).items():
        for c in items:
            if "handled_by" in c:
                assert c["handled_by"] in rules, (eccn, c)
                assert rules[c["handled_by"]].active(day), (day, eccn, c["handled_by"])


@pytest.mark.parametrize("day", ["2020-01-01", "2022-10-07", "2022-10-21", "2023-11-17", "2024-09-06",
                                 "2024-12-31", "2026-07-23"])
def test_a_handed_over_control_names_a_rule_in_force(day):
    _handled_rules_exist(date.fromisoformat(day))


@pytest.mark.parametrize("day", ["2022-06-01", "2024-06-01", "2026-07-23"])
def test_no_stated_control_answers_no_inside_its_scope(day):
    """Shipments per (entry, control) to destinations the control reaches (the first, the PRC when in
    scope, the last), the entry with its first named paragraph: yes or needs_review, never no."""
    d = date.fromisoformat(day)
    p = params_at(d)
    everywhere = set(p.get("country_chart_marks") or {}) | {"HK"}
    rows = []
    for eccn, items in controls_on(p).items():
        for i, c in enumerate(items):
            if "handled_by" in c or "none" in c or "defer" in c:
                continue
            dests = sorted(destinations(c, p, everywhere))
            para = c["applies"][0] if isinstance(c["applies"], list) else None
            item = f"{eccn}.{para}" if para else eccn
            for dest in {x for x in (dests[:1] + dests[-1:] + [x for x in dests if x == "CN"])}:
                rows.append({"row_id": f"{eccn}#{i}", "eccn": item, "destination": dest, "date": d,
                             "item_kind": "other", "us_origin": True, "ship_from": "US", "transaction_type": "export",
                             "end_use": "civil_other", "end_user_hq_country": dest, "end_user_country": dest,
                             "end_user_listed": False, "entity_list_footnote": 0,
                             "end_user_affiliate_of_listed": False})
    assert len(rows) > 1500
    out = evaluate(pl.DataFrame(rows), screen=False)
    wrong = out.filter(pl.col("license_required") == "no").select("row_id", "eccn", "destination")
    assert wrong.height == 0, wrong.head(20)
