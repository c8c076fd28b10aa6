"""Two-way exposure: the PRC side (inputs under PRC licence) beside the U.S. side, under scenarios."""

from __future__ import annotations

from datetime import date

import polars as pl

from carveout import engine
from carveout.scenarios.diff import as_compiled, diff
from carveout.scenarios.exposure_prc import prc_exposure, two_way, two_way_for


def _row(frame: pl.DataFrame, col: str, value: str) -> dict:
    return frame.filter(pl.col(col) == value).row(0, named=True)


def test_prc_side_follows_the_dated_rules():
    early = prc_exposure(date(2023, 1, 1))
    late = prc_exposure(date(2027, 1, 1))
    assert _row(early.by_input, "input", "gallium")["prc_licence"] == "no"  # before 2023 No. 23
    assert _row(late.by_input, "input", "gallium")["prc_licence"] == "yes"
    sk_early, sk_late = _row(early.by_company, "company", "SK hynix"), _row(late.by_company, "company", "SK hynix")
    assert sk_late["prc_inputs_licensed"] > sk_early["prc_inputs_licensed"]


def test_unknown_shares_stay_null_never_zero():
    e = prc_exposure(date(2027, 1, 1))
    tsmc = _row(e.by_company, "company", "TSMC")
    assert tsmc["prc_china_share_low_pct"] is None and tsmc["prc_inputs_licensed"] is None
    assert _row(e.by_input, "input", "tungsten (APT)")["china_share_low_pct"] is None


def test_fab_review_policy_reads_the_fab_end_use():
    e = prc_exposure(date(2027, 1, 1))
    assert _row(e.by_fab, "facility_id", "SAMSUNG-XIAN")["prc_no61_policy"] == "case-by-case review"  # 286 layers
    assert _row(e.by_fab, "facility_id", "SKH-DALIAN")["prc_no61_policy"] != "case-by-case review"  # 192 layers
    suspended = prc_exposure(date(2026, 6, 1))
    assert _row(suspended.by_fab, "facility_id", "SAMSUNG-XIAN")["prc_no61_foreign_target"] == "no"


def test_a_scenario_changes_the_prc_side():
    ext = as_compiled("prc_suspension_extended").ruleset
    tw = two_way(pl.DataFrame(schema={"company": pl.String}), date(2027, 1, 1), engine.BASELINE, ext)
    sk = _row(tw, "company", "Samsung Electronics")
    assert sk["prc_inputs_licensed_scenario"] < sk["prc_inputs_licensed"]


def test_two_way_beside_a_us_diff():
    from carveout.catalogue_data import example_ledger_path
    from carveout.io.ledger import read_ledger

    led = read_ledger(example_ledger_path()).facts.head(400)
    res = diff(led, "veu_revoked_no_replacement", screen=False)
    tw = two_way_for(res)
    assert {"us_newly_licensed_value_usd", "prc_inputs_licensed", "prc_inputs_licensed_scenario"} <= set(tw.columns)
    assert tw.height == tw["company"].n_unique()
