"""The offline HTML report, the Rich summary table and the scenario CLI."""

from __future__ import annotations

import re

import yaml
from rich.console import Console
from typer.testing import CliRunner

from carveout.report import write_report
from carveout.scenarios import summary_table
from carveout.scenarios.cli import app
from tests.test_frontier import DAY, ledger


def test_report_is_self_contained(tmp_path):
    cands = tmp_path / "c.yaml"
    cands.write_text(yaml.safe_dump({"candidates": [
        {"id": "xian", "list_edits": {"veu": [{"action": "grant", "site": "SAMSUNG-XIAN", "items": ["*"]}]}}]}))
    out = write_report(tmp_path / "r.html", ledger(1), ["flexibility_package"], candidates=cands,
                       screen=False, executor="serial")
    html = out.read_text()
    assert not re.search(r"<script[^>]+src\s*=\s*[\"']https?://", html, re.I)
    assert "window.vegaEmbed" in html and html.count("vegaEmbed(\"#") == 3
    assert "Exposure by fab" in html and "SAMSUNG-XIAN" in html
    assert "Two-way exposure" in html and "Supply shock" in html and "prc_materials_cutoff" in html


def test_summary_table_over_shipped_scenarios():
    t = summary_table(ledger(1), screen=False)
    assert t.row_count == 6
    console = Console(width=200, record=True)
    console.print(t)
    assert "flexibility_package" in console.export_text()


def test_cli_list_validate_diff(tmp_path):
    r = CliRunner()
    res = r.invoke(app, ["list"])
    assert res.exit_code == 0 and "flexibility_package" in res.output
    res = r.invoke(app, ["validate", "site_licence_annual_caps"])
    assert res.exit_code == 0, res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\neffective: 2027-01-01\nrules:\n  - {id: r, effect: require, label: abc, "
                   "when: \"open('x')\"}\n")
    res = r.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 1 and "rules[0].when" in res.output
    led = tmp_path / "l.csv"
    ledger(1).drop("entity_list_footnote").write_csv(led)  # (footnote column: see the ledger reader)
    out = tmp_path / "d.csv"
    res = r.invoke(app, ["diff", "flexibility_package", "--ledger", str(led), "--no-screen", "--out", str(out),
                         "--as-of", DAY.isoformat()])
    assert res.exit_code == 0, res.output
    assert out.exists()
