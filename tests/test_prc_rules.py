"""PRC export controls (jurisdiction CN): the dated cases in tests/cases/prc.yaml, the closed material
vocabulary, and the combined US+CN verdict."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import load_cases
from conftest import merge_case as _merge
from pydantic import ValidationError

from carveout import api, engine
from carveout.jurisdictions import check_all, combine, evaluate_all, parse, ruleset_for
from carveout.model import Transaction
from carveout.rules.registry import all_rules

PRC = load_cases("prc.yaml")
CN = ruleset_for("CN")


@pytest.mark.parametrize("case", PRC["cases"], ids=[c["name"] for c in PRC["cases"]])
def test_prc_case(case):
    d = api.check(_merge(PRC["base"], case["shipment"]), ruleset=CN)
    exp = case["expect"]
    ids = [r.rule for r in d.reasons]
    assert d.license_required == exp["license_required"], (d.license_required, ids, d.missing)
    for r in exp.get("reasons_contain", []):
        assert r in ids, ids
    for r in exp.get("reasons_exclude", []):
        assert r not in ids, ids
    if "policy" in exp:
        assert d.review_policy == exp["policy"], (d.review_policy, ids)
    for m in exp.get("missing_contains", []):
        assert m in d.missing, d.missing
    assert all(not i.startswith(("ccl.", "part7")) for i in ids)  # no EAR reasons under PRC law
    assert d.rules_version.endswith("+CN")


def test_every_prc_rule_is_cn_and_every_ear_rule_us():
    for r in all_rules():
        assert r.jurisdiction == ("CN" if r.id.startswith("prc.") else "US"), r.id


def test_every_prc_announcement_module_has_a_dated_case():
    cited = {c for case in PRC["cases"] for c in case["expect"].get("reasons_contain", [])}
    modules = {r.id.split(".")[1] for r in all_rules() if r.jurisdiction == "CN" and r.stage == "require"}
    for m in modules - {"unmodelled"}:
        assert any(c.split(".")[1] == m for c in cited), f"no case cites {m}"


def test_us_evaluation_ignores_prc_rules():
    txn = {"date": "2026-01-15", "ship_from": "CN", "destination": "US", "end_use": "military",
           "item": {"kind": "material", "material": "germanium"}}
    ids = [r.rule for r in api.check(txn).reasons]
    assert not any(i.startswith("prc.") for i in ids)
    assert engine.BASELINE.jurisdiction == "US"
    # PRC parameter dates do not split the EAR's epochs
    assert date(2023, 8, 1) not in engine.BASELINE.boundaries


def test_unknown_material_is_an_input_error_and_unknown_in_a_frame_needs_review():
    with pytest.raises(ValidationError):
        Transaction.model_validate({"item": {"kind": "material", "material": "unobtainium"}})
    frame = api.frame_of([{"date": date(2026, 1, 15), "ship_from": "CN", "destination": "KR",
                           "item_kind": "material", "material": "unobtainium"}])
    out = evaluate_all(frame, ("CN",))
    assert out["license_required_CN"][0] == "needs_review"


def test_combined_verdict_is_the_strictest():
    assert combine(["no", "yes"]) == "yes"
    assert combine(["needs_review", "no"]) == "needs_review"
    assert combine(["needs_review", "yes"]) == "yes"
    assert combine(["no", "no"]) == "no"
    assert combine(["no", None]) == "needs_review"
    with pytest.raises(ValueError):
        parse("US,XX")


def test_check_under_both_laws():
    txn = {"date": "2026-11-11", "ship_from": "JP", "destination": "KR", "origin": {"cn_origin": False},
           "item": {"kind": "material", "material": "rare_earth_sputtering_target", "rare_earth_content_pct": 0.5}}
    res = check_all(txn, ("US", "CN"))
    assert res.jurisdictions["CN"].license_required == "yes"
    assert res.license_required == "yes" and res.decided_by == ["CN"]
    frame = api.frame_of([{**Transaction.model_validate(txn).facts(), "date": date(2026, 11, 11)}] * 3)
    out = evaluate_all(frame)
    assert out.height == 3 and out["license_required"].to_list() == ["yes"] * 3
    assert set(out.columns) >= {"license_required_US", "license_required_CN", "reasons_CN"}


def test_cli_check_jurisdiction(tmp_path):
    import json

    from typer.testing import CliRunner

    from carveout.cli import app

    f = tmp_path / "t.json"
    f.write_text(json.dumps({"date": "2024-12-03", "ship_from": "CN", "destination": "US",
                             "item": {"kind": "material", "material": "gallium"}}))
    res = CliRunner().invoke(app, ["check", str(f), "--jurisdiction", "US,CN", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["license_required"] == "yes"
    assert out["jurisdictions"]["CN"]["review_policy"] == "in principle not permitted"
    bad = CliRunner().invoke(app, ["check", str(f), "--jurisdiction", "XX"])
    assert bad.exit_code == 2


def test_us_side_scenario_suspends_the_affiliates_rule_again():
    from carveout.scenarios.diff import as_compiled

    txn = {"date": "2026-11-10", "ship_from": "US", "destination": "SG", "origin": {"us_origin": True},
           "item": {"kind": "ic", "base_eccn": "3A991.p", "tpp": 10, "die_area_mm2": 100},
           "end_user": {"name": "Subsidiary Pte", "country": "SG", "listed": False, "affiliate_of_listed": True,
                        "headquarters_country": "SG"}, "end_use": "civil_other"}
    base = [r.rule for r in api.check(txn).reasons]
    again = [r.rule for r in api.check(txn, ruleset=as_compiled("us_affiliates_suspended_again").ruleset).reasons]
    assert "part744.11.affiliates.2026" in base
    assert "part744.11.affiliates.2026" not in again


def test_rules_command_lists_one_law(tmp_path):
    from typer.testing import CliRunner

    from carveout.cli import app

    cn = CliRunner().invoke(app, ["rules", "--as-of", "2026-01-15", "--jurisdiction", "CN"])
    assert cn.exit_code == 0 and "prc.mofcom_2025_18" in cn.output and "part744" not in cn.output


def test_check_takes_a_jurisdiction():
    txn = {"date": "2025-04-04", "ship_from": "CN", "destination": "KR",
           "item": {"kind": "material", "material": "dysprosium"}}
    d = api.check(txn, jurisdiction="CN")
    assert d.license_required == "yes" and d.reasons[0].citation == "MOFCOM/GACC Announcement 2025 No. 18"
    with pytest.raises(ValueError):
        api.check(txn, jurisdiction="US,CN")
