"""Cut points are read from the rule expressions: the thresholds must be the parameters' numbers with the
operators the rules use, and a value's bucket must decide every comparison on that fact."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from carveout.rules import params as prm
from carveout.rules.cutpoints import Cut, cut_points, expr_cut_points


def test_operators_and_literals_are_read_exactly():
    e = (pl.col("a") >= 3) & (pl.col("b") > 2.5) & (5 <= pl.col("c")) & (pl.col("k") == "ic")
    e = e & pl.col("u").is_in(["x", "y"]) & pl.col("s").str.starts_with("3B001.") & pl.col("r").str.contains("^3[B-E]")
    cp = expr_cut_points(e, "r1")
    assert Cut("a", ">=", 3.0, "r1") in cp.cuts
    assert Cut("b", ">", 2.5, "r1") in cp.cuts
    assert Cut("c", ">=", 5.0, "r1") in cp.cuts  # a literal on the left is flipped
    assert cp.values("k") == ["ic"]
    assert cp.values("u") == ["x", "y"]
    assert cp.values("s") == ["3B001"]
    assert cp.patterns("r") == ["^3[B-E]"]


def test_3a090_thresholds_come_from_the_parameters():
    day = date(2024, 6, 1)
    p = prm.params_at(day)
    cp = cut_points(day)
    assert cp.thresholds("tpp") == sorted({p.tpp_min_a2, p.tpp_min_b1, p.tpp_min_a, p.datacenter_tpp_floor})
    assert {(c.op, c.value) for c in cp.cuts_for("tpp") if c.rule == "ccl.3a090.a.1"} == {(">=", p.tpp_min_a)}
    assert p.pd_min_a2 in cp.thresholds("performance_density")
    # The 2022 text compared the I/O rate instead; it is gone from the 2023 text.
    assert cut_points(date(2023, 1, 1)).thresholds("interconnect_gb_s") == [
        prm.params_at(date(2023, 1, 1)).io_rate_min_a
    ]
    assert cp.thresholds("interconnect_gb_s") == []


def test_hbm_strict_threshold_and_de_minimis_branches():
    cp = cut_points(date(2025, 6, 1))
    p = prm.params_at(date(2025, 6, 1))
    assert Cut("memory_bandwidth_density_gb_s_mm2", ">", float(p.hbm_mbd_min), "ccl.3a090.c") in cp.cuts
    # when/then/otherwise over literals: both de minimis percentages are cut points
    assert {p.de_minimis_pct_general, p.de_minimis_pct_e1_e2} <= set(cp.thresholds("us_controlled_content_pct"))


def test_categorical_values_and_opaque_chart():
    cp = cut_points(date(2025, 6, 1))
    assert {"advanced_node_logic_fab", "supercomputer", "military"} <= set(cp.values("end_use"))
    assert "3A001" in cp.values("base_eccn")
    assert cp.is_opaque("ccl_eccn")  # the Country Chart compares hashes
    groups = cp.classes("eccn", ["3B001.c", "3B001.c.1.a", "EAR99", "3A991"])
    assert ["EAR99", "3A991"] in groups


@settings(max_examples=200, deadline=None)
@given(x=st.floats(0, 30000, allow_nan=False), y=st.floats(0, 30000, allow_nan=False))
def test_same_bucket_same_comparisons(x, y):
    cp = _CP
    for fact in ("tpp", "performance_density"):
        if cp.bucket(fact, x) == cp.bucket(fact, y):
            assert [c.holds(x) for c in cp.cuts_for(fact)] == [c.holds(y) for c in cp.cuts_for(fact)]


def test_grid_points_hit_every_bucket_and_expr_agrees():
    cp = _CP
    grid = cp.grid("tpp")
    assert len({cp.bucket("tpp", g) for g in grid}) == 2 * len(cp.thresholds("tpp")) + 1
    df = pl.DataFrame({"tpp": [*grid, None]})
    got = df.select(cp.bucket_expr("tpp")).to_series().to_list()
    assert got == [cp.bucket("tpp", g) for g in grid] + [None]


_CP = cut_points(date(2024, 6, 1))
