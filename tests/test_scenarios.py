"""Scenarios: the file format and its errors, the expression language, compile -> RuleSet, and diff."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from carveout import engine
from carveout.api import frame_of
from carveout.rules.registry import all_rules
from carveout.scenarios import ScenarioError, builtin_names, compile_scenario, diff, exposure, load, parse
from carveout.scenarios.expr import ExpressionError, compile_expression

VEU_DAY = date(2024, 6, 1)  # VEU sites authorized (88 FR 71478), before the 2025-12-31 revocation


def _row(**kw):
    base = dict(
        date=VEU_DAY, item_kind="equipment", eccn_declared="3B001.c", destination="CN", end_user_country="CN",
        ship_from="US", us_origin=True, transaction_type="export", exporter="Applied Materials",
        exporter_hq_country="US", end_user_listed=False, entity_list_footnote=0, value_usd=1_000_000.0,
    )
    return {**base, **kw}


def small_ledger() -> pl.DataFrame:
    """Two VEU fabs, one non-VEU fab, one row without a facility; eligible and non-eligible items."""
    rows = [
        _row(facility_id="SAMSUNG-XIAN", end_user_name="Samsung China Semiconductor Co. Ltd.",
             end_user_hq_country="KR", end_use="advanced_node_nand_fab", eccn_declared="3B001.c"),
        _row(facility_id="SAMSUNG-XIAN", end_user_name="Samsung China Semiconductor Co. Ltd.",
             end_user_hq_country="KR", end_use="advanced_node_nand_fab", eccn_declared="3B002.c"),
        _row(facility_id="SAMSUNG-XIAN", end_user_name="Samsung China Semiconductor Co. Ltd.",
             end_user_hq_country="KR", end_use="advanced_node_nand_fab", eccn_declared="EAR99", value_usd=5.0),
        _row(facility_id="SKH-WUXI", end_user_name="SK hynix Semiconductor (China) Ltd.",
             end_user_hq_country="KR", end_use="advanced_node_dram_fab", eccn_declared="3B001.c"),
        _row(facility_id="YMTC-WUHAN", end_user_name="Yangtze Memory Technologies Co., Ltd.",
             end_user_hq_country="CN", end_use="advanced_node_nand_fab", eccn_declared="3B001.c"),
        _row(facility_id=None, end_user_name="Some Fab Ltd", end_user_hq_country="CN",
             end_use="mature_node_fab", eccn_declared="3B001.c"),
    ]
    return frame_of(rows)


def write(tmp_path: Path, doc: dict, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return p


# --- the shipped files ---------------------------------------------------------------------------

def test_shipped_scenarios_validate_and_compile():
    names = builtin_names()
    for n in ("baseline", "veu_revoked_no_replacement", "site_licence_annual_caps", "sme_mature_memory_nodes",
              "hbm_threshold_lowered", "flexibility_package"):
        assert n in names
        compiled = compile_scenario(load(n))
        assert isinstance(compiled.ruleset, engine.RuleSet)


def test_estimates_are_marked_in_shipped_caps():
    text = (Path(load("site_licence_annual_caps").source)).read_text()
    for line in text.splitlines():
        if "annual_cap_usd" in line and line.strip().startswith("- {"):
            assert "estimate" in line


# --- diff ---------------------------------------------------------------------------------------

def test_diff_of_baseline_identical_scenario_is_empty(tmp_path):
    led = small_ledger()
    same = write(tmp_path, {"name": "same", "effective": "2024-06-01",
                            "params": {"tpp_min_a": 4800}})  # today's value: changes nothing
    assert diff(led, "baseline", screen=False).empty
    res = diff(led, same, as_of=VEU_DAY, screen=False)
    assert res.empty and len(res) == 0
    assert all(a.is_empty() for a in res.aggregates.values())


def _veu_rule_present() -> bool:
    return any(r.stage == "authorize" and "veu" in r.id for r in all_rules())


@pytest.mark.skipif(not _veu_rule_present(), reason="the VEU rule (rules/part748_veu.py) has not landed yet")
def test_revoking_a_veu_site_licenses_exactly_its_eligible_rows(tmp_path):
    led = small_ledger()
    base = engine.evaluate(led, as_of=VEU_DAY, screen=False)
    # An authorized VEU site whose Supp. 7 eligible-item list was not captured can neither cover nor exclude an
    # item: those rows wait for review (issue #12 item 6), and the revocation turns them into licences.
    from carveout.rules.asks import ASK

    veu_rows = base.filter(pl.col("missing").list.contains(ASK["part748.15.veu"]))
    assert set(veu_rows["facility_id"]) == {"SAMSUNG-XIAN", "SKH-WUXI"}
    assert set(veu_rows["license_required"]) == {"needs_review"}
    sc = write(tmp_path, {"name": "revoke_xian", "effective": "2024-06-01",
                          "list_edits": {"veu": [{"action": "revoke", "site": "SAMSUNG-XIAN"}]}})
    res = diff(led, sc, as_of=VEU_DAY, screen=False)
    expected = set(veu_rows.filter(pl.col("facility_id") == "SAMSUNG-XIAN")["row"].to_list())
    assert set(res.rows["row"].to_list()) == expected
    assert set(res.rows["to"]) == {"yes"} and set(res.rows["from"]) == {"needs_review"}
    assert res.aggregates["company"]["company"].to_list() == ["Samsung Electronics"]
    ex = exposure(res)
    fab = ex.by_fab.row(0, named=True)
    assert fab["facility_id"] == "SAMSUNG-XIAN" and fab["share_low_pct"] <= fab["share_high_pct"]


def test_entity_list_edit_and_new_rule(tmp_path):
    led = small_ledger()
    sc = write(tmp_path, {
        "name": "edits", "effective": "2024-06-01",
        "list_edits": {"entity_list": [{"action": "add", "name": "SOME FAB LTD.", "footnote": 5}]},
        "rules": [{"id": "mature_sme", "effect": "require", "label": "mature-node SME needs a licence",
                   "when": "item_kind == 'equipment' and end_use == 'mature_node_fab' and eccn in ['3B001']"}],
    })
    out = engine.evaluate(led, as_of=VEU_DAY, ruleset=compile_scenario(load(sc)).ruleset, screen=False)
    some = out.filter(pl.col("end_user_name") == "Some Fab Ltd").row(0, named=True)
    assert some["end_user_listed"] is True and some["entity_list_footnote"] == 5
    assert "scenario.mature_sme" in some["reasons"] and some["license_required"] == "yes"
    other = out.filter(pl.col("facility_id") == "YMTC-WUHAN").row(0, named=True)
    assert "scenario.mature_sme" not in other["reasons"]


def test_caps_license_value_above_the_cap(tmp_path):
    led = pl.concat([small_ledger().filter(pl.col("facility_id") == "YMTC-WUHAN")] * 3).with_columns(
        date=pl.Series([date(2024, 6, 1), date(2024, 7, 1), date(2024, 8, 1)]))
    sc = write(tmp_path, {
        "name": "capped", "effective": "2024-06-01",
        "rules": [{"id": "site", "effect": "authorize", "label": "site licence", "overcomes": ["all"],
                   "when": "facility_id == 'YMTC-WUHAN'"}],
        "caps": [{"rule": "site", "facility_id": "YMTC-WUHAN", "annual_cap_usd": 1.5e6}],
    })
    from carveout.scenarios.diff import evaluate_scenario

    out = evaluate_scenario(led, load(sc), VEU_DAY, screen=False).sort("date")
    assert out["license_required"].to_list() == ["no", "yes", "yes"]
    assert "scenario.cap_exceeded" in out["reasons"].to_list()[1]


# --- format errors name the key path ---------------------------------------------------------------

@pytest.mark.parametrize("doc, path, words", [
    ({"name": "x", "effective": "2027-01-01", "parms": {}}, "parms", "did you mean 'params'"),
    ({"name": "x"}, "effective", "missing"),
    ({"name": "x", "effective": "2027-01-01", "params": {"tpp_min_x": 1}}, "params.tpp_min_x", "unknown parameter"),
    ({"name": "x", "effective": "2027-01-01", "params": {"tpp_min_a": "high"}}, "params.tpp_min_a", "expected"),
    ({"name": "x", "effective": "2027-01-01", "disable": ["no.such.rule"]}, "disable[0]", "unknown rule id"),
    ({"name": "x", "effective": "2027-01-01",
      "rules": [{"id": "r", "effect": "forbid", "label": "abc", "when": "tpp > 1"}]}, "rules[0].effect", ""),
    ({"name": "x", "effective": "2027-01-01",
      "rules": [{"id": "r", "effect": "require", "label": "abc", "when": "tp > 1"}]}, "rules[0].when",
     "did you mean 'tpp'"),
    ({"name": "x", "effective": "2027-01-01",
      "rules": [{"id": "r", "effect": "authorize", "label": "abc", "when": "tpp > 1"}]}, "rules[0].overcomes", ""),
    ({"name": "x", "effective": "2027-01-01",
      "list_edits": {"veu": [{"action": "revoke", "site": "SAMSUNG-XIAN", "colour": "red"}]}},
     "list_edits.veu[0].colour", "unknown key"),
])
def test_invalid_scenario_errors_name_the_key(doc, path, words):
    with pytest.raises(ScenarioError) as e:
        parse(doc, "bad.yaml")
    paths = [p for p, _ in e.value.problems]
    assert path in paths, e.value
    assert words in str(e.value)
    assert "bad.yaml" in str(e.value)


# --- the expression language ---------------------------------------------------------------------

@pytest.mark.parametrize("src, words", [
    ("__import__('os').system('true')", "calls are not allowed"),
    ("open('x')", "calls are not allowed"),
    ("tpp.real > 1", "attribute"),
    ("item_kind.upper() == 'IC'", ""),
    ("destination[0] == 'C'", "indexing"),
    ("(lambda: 1)() == 1", ""),
    ("[x for x in [1]] == [1]", ""),
    ("param('nope') > 1", "unknown parameter"),
    ("param(tpp) > 1", "calls are not allowed"),
    ("tpp > 'high'", "cannot compare"),
    ("tpp + 1", "true/false"),
])
def test_expression_language_rejects(src, words):
    with pytest.raises(ExpressionError) as e:
        compile_expression(src, {"tpp_min_a"})
    assert words in str(e.value)


def test_expression_language_compiles_to_kleene_polars():
    c = compile_expression("tpp >= param('tpp_min_a') and destination in ['CN', 'MO'] or not red_flag",
                           {"tpp_min_a"})
    assert c.facts == {"tpp", "destination", "red_flag"} and c.params == {"tpp_min_a"}
    df = pl.DataFrame({"tpp": [5000.0, None, 100.0], "destination": ["CN", "CN", "CN"],
                       "red_flag": [True, True, None]})
    got = df.select(c.build({"tpp_min_a": 4800}).alias("x"))["x"].to_list()
    assert got == [True, None, None]
    eccn = compile_expression("eccn in ['3B001.c'] and facility_id is not None")
    df = pl.DataFrame({"eccn": ["3B001.c.1.a", "3B001.d", "3B001.c"], "facility_id": ["A", "A", None]})
    assert df.select(eccn.build({}).alias("x"))["x"].to_list() == [True, False, False]
