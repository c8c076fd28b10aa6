"""Supply-shock model: shipped scenarios run, ranges behave, zero shock means zero price effect."""

from __future__ import annotations

import polars as pl
import pytest

from carveout.shock.model import load_params, simulate


def test_veu_scenario_reports_capacity_supply_and_price():
    r = simulate("veu_revoked_no_replacement", (2026, 2030), 2_000, seed=11)
    assert set(r.fabs["fab"]) == {"SKH-WUXI", "SAMSUNG-XIAN", "SKH-DALIAN"}
    assert r.markets.height == 10 and r.market_draws.height == 2_000 * 5 * 2
    wuxi = r.fabs.filter(pl.col("fab") == "SKH-WUXI").sort("year")
    assert (wuxi["capacity_lost_wpm_median"].diff().drop_nulls() > 0).all()  # attrition compounds
    for row in r.markets.iter_rows(named=True):
        assert 0 < row["share_lost_p5"] <= row["share_lost_median"] <= row["share_lost_p95"] < 1
        assert 0 < row["price_effect_p5"] <= row["price_effect_median"] <= row["price_effect_p95"]
    # Dalian's capacity was not found: no number is invented for it
    assert r.fabs.filter(pl.col("fab") == "SKH-DALIAN")["capacity_lost_wpm_median"].null_count() == 5


def test_materials_scenario_runs_and_starts_in_its_year():
    r = simulate("prc_materials_cutoff", (2026, 2030), 2_000, seed=5)
    y26 = r.markets.filter(pl.col("year") == 2026)
    assert (y26["price_effect_p95"] == 0).all()
    assert (r.markets.filter(pl.col("year") == 2027)["share_lost_median"] > 0).all()


def test_zero_shock_gives_zero_price_effect():
    zero = {f"fabs.{f}.{k}": 0.0 for f in ("SKH-WUXI", "SAMSUNG-XIAN", "SKH-DALIAN")
            for k in ("upgrade_bit_growth", "attrition_per_year")}
    r = simulate("veu_revoked_no_replacement", (2026, 2030), 1_000, seed=3, overrides=zero)
    assert r.market_draws["price_effect"].abs().max() == 0
    assert r.market_draws["share_lost"].abs().max() == 0


@pytest.mark.parametrize("name,wide", [
    ("fabs.SAMSUNG-XIAN.attrition_per_year", {"low": 0.0, "high": 0.25}),
    ("markets.NAND.price_flexibility", {"low": 0.5, "high": 5.0}),
])
def test_widening_an_input_range_widens_the_output_range(name, wide):
    base = simulate("veu_revoked_no_replacement", (2026, 2030), 4_000, seed=7)
    wider = simulate("veu_revoked_no_replacement", (2026, 2030), 4_000, seed=7, overrides={name: wide})

    def spread(r):
        n = r.markets.filter((pl.col("market") == "NAND") & (pl.col("year") == 2030)).row(0, named=True)
        return n["price_effect_p95"] - n["price_effect_p5"]

    assert spread(wider) > spread(base)


def test_every_input_is_sourced_or_marked_estimate():
    from carveout.shock.model import inputs

    for name, d in inputs(load_params()).items():
        assert d.source, f"{name} has no source or reason"
        if d.estimate:  # an assumption is drawn over a range, never a single made-up number
            assert d.low is not None and d.high is not None and d.high > d.low, name


def test_unknown_scenario_and_bad_ranges_are_errors():
    with pytest.raises(KeyError):
        simulate("no_such_scenario")
    with pytest.raises(ValueError):
        simulate("veu_revoked_no_replacement", overrides={"offset_per_year": {"low": 0.5, "high": 0.1}})


def test_cli_prints_the_table_and_writes_draws(tmp_path):
    from typer.testing import CliRunner

    from carveout.cli import app

    out = tmp_path / "draws.parquet"
    res = CliRunner().invoke(app, ["shock", "prc_materials_cutoff", "--draws", "500", "--years", "2026:2028",
                                   "--elasticity", "-0.6:-0.25", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "supply share lost" in res.output and "price" in res.output
    d = pl.read_parquet(out)
    assert d.height == 500 * 3 * 2 and {"draw", "year", "market", "share_lost", "price_effect"} <= set(d.columns)


def test_sweep_on_a_dask_local_cluster_matches_serial():
    distributed = pytest.importorskip("distributed")
    from carveout.shock.sweep import Job, sweep

    wide = {"fabs.SKH-WUXI.attrition_per_year": {"low": 0.0, "high": 0.3, "estimate": True}}
    jobs = [Job("veu_revoked_no_replacement", draws=500, seed=1), Job("prc_materials_cutoff", draws=500, seed=1),
            Job("veu_revoked_no_replacement", "wide attrition", wide, draws=500)]
    serial = sweep(jobs)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        remote = sweep(jobs, "dask", client)
    key = ["label", "market", "year"]
    assert serial.sort(key).equals(remote.sort(key))
    assert set(remote["label"]) == {"veu_revoked_no_replacement", "prc_materials_cutoff", "wide attrition"}


def test_channels_come_from_the_policy_scenario_rules():
    from datetime import date

    from carveout.shock.channels import channels, derive, simulate_policy

    fabs = ["SKH-WUXI", "SAMSUNG-XIAN"]
    no_rep = channels("veu_revoked_no_replacement", fabs, date(2026, 1, 1))
    base = channels("baseline", fabs, date(2026, 1, 1))
    m = dict(zip(zip(no_rep["facility_id"], no_rep["probe"], strict=True), no_rep["license_required"], strict=True))
    b = dict(zip(zip(base["facility_id"], base["probe"], strict=True), base["license_required"], strict=True))
    assert m[("SKH-WUXI", "maintenance")] == "yes" and b[("SKH-WUXI", "maintenance")] == "no"
    assert derive({"fabs": fabs}, no_rep)["attrition"] is True
    assert derive({"fabs": fabs, "attrition": True}, base)["attrition"] is False
    r = simulate_policy("veu_revoked_no_replacement", (2026, 2027), 300)
    assert r.channels is not None and (r.fabs["capacity_lost_wpm_median"].drop_nulls() > 0).all()


def test_materials_cutoff_needs_a_prc_licence_to_deny():
    from datetime import date

    from carveout.shock.channels import prc_licences

    before = prc_licences("baseline", ["dysprosium", "holmium"], date(2025, 1, 1))
    assert before["license_required"].to_list() == ["no", "no"]  # before 2025 No. 18 / No. 57
    after = prc_licences("baseline", ["dysprosium", "holmium"], date(2027, 1, 1))
    assert after["license_required"].to_list() == ["yes", "yes"]
    ext = prc_licences("prc_suspension_extended", ["holmium"], date(2027, 1, 1))
    assert ext["license_required"].to_list() == ["no"]  # No. 57 stays suspended in that scenario
