"""The commands a first-day user meets: report, facilities, frontier defaults, and the demo's explanations."""

from __future__ import annotations

from datetime import date

import polars as pl
from typer.testing import CliRunner

from carveout import api, catalogue_data
from carveout.cli import _differs, _why_differs, app
from carveout.scenarios.data import facilities
from carveout.scenarios.diff import diff
from tests.test_frontier import DAY, ledger

runner = CliRunner()


def test_report_command_writes_an_offline_page(tmp_path):
    led = tmp_path / "l.csv"
    ledger(1).drop("entity_list_footnote").write_csv(led)
    out = tmp_path / "sub" / "report.html"
    res = runner.invoke(app, ["report", "--ledger", str(led), "--scenario", "flexibility_package",
                              "--out", str(out), "--no-screen"])
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert "flexibility_package" in html and "Exemption frontier" in html
    assert '<div class="tbl">' in html  # wide tables scroll inside their box
    assert "site_licence_annual_caps" not in html  # only the scenario asked for


def test_report_command_rejects_a_bad_scenario_and_suffix(tmp_path):
    res = runner.invoke(app, ["report", "--scenario", "no_such_scenario", "--out", str(tmp_path / "r.html"),
                              "--no-screen"])
    assert res.exit_code == 2 and "no_such_scenario" in res.output
    res = runner.invoke(app, ["report", "--out", str(tmp_path / "r.txt")])
    assert res.exit_code == 2 and ".html" in res.output


def test_facilities_lists_every_facility_id():
    res = runner.invoke(app, ["facilities"], terminal_width=250)
    assert res.exit_code == 0, res.output
    for fid in facilities().get_column("facility_id"):
        assert fid in res.output


def test_frontier_defaults_to_the_shipped_candidates(tmp_path):
    from carveout.scenarios.cli import app as scenario_app

    res = runner.invoke(scenario_app, ["frontier", "--help"], env={"COLUMNS": "300"})
    assert "veu_exemptions.yaml" in " ".join(res.output.split())
    led = tmp_path / "l.csv"
    ledger(1).drop("entity_list_footnote").write_csv(led)
    res = runner.invoke(scenario_app, ["frontier", "--ledger", str(led), "--no-screen", "--executor", "serial",
                                       "--as-of", DAY.isoformat()], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "veu_samsung_xian" in res.output or "veu_skh_wuxi" in res.output


def test_demo_explains_where_a_published_classification_differs():
    """Every catalogue row whose published ECCN disagrees with the engine gets a reason naming the thresholds;
    rows that agree get none."""
    cat = catalogue_data.chips()
    day = date.today()
    res = api.evaluate(cat, as_of=day, screen=False)
    differing = [r for r in res.iter_rows(named=True) if _differs(r.get("reported_classification"), r["eccn"])]
    agreeing = [r for r in res.iter_rows(named=True)
                if r.get("reported_classification") and not _differs(r["reported_classification"], r["eccn"])]
    assert agreeing, "most published classifications agree with the engine"
    for r in differing:
        why = _why_differs(r, day)
        assert r["reported_classification"] in why and "requires" in why
        if r["item_kind"] == "ic":
            assert "TPP ≥ 4800" in why  # the thresholds of the text in force, from the parameters
    assert _differs("3A090.b.2", "not 3A090/4A090") and not _differs("3A090", "3A090.a")
    assert not _differs("not 3A090", "not 3A090/4A090") and _differs("not 3A090", "3A090.a")


def test_flexibility_package_does_what_its_description_says():
    """EUV lithography (3B001.f.1) stays licensed; DUV immersion scanners (3B993.f.1) are authorized."""
    base = ledger(1).filter(pl.col("facility_id") == "SKH-WUXI").head(1)
    rows = pl.concat([base.with_columns(eccn_declared=pl.lit(e)) for e in ("3B001.f.1", "3B993.f.1", "3B001.c")])
    res = diff(rows, "flexibility_package", screen=False, as_of=DAY)
    out = dict(zip(res.rows.get_column("eccn"), res.rows.get_column("to"), strict=True))
    assert "3B001.f.1" not in out  # no change: still licensed
    assert out.get("3B993.f.1") == "no" and out.get("3B001.c") == "no"
