"""Two fail-closed holes the adversarial run found (issue #10), each through check() and evaluate().

1. A chip known only from its parameters to meet 3A090.a, with no base ECCN, may be a .z item of another
   entry (3A001.z carries NS 2, 5A002.z carries EI): where such an entry would need a licence, the answer
   waits for base_eccn instead of reading "no" into its absence.
2. In a ledger large enough to be bucketed, an out-of-range number in a native float column (inf, a
   negative TPP, an infinite value_usd that no rule reads) must come out needs_review naming the column.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from carveout import check
from carveout.engine import SMALL, evaluate


def _chip(destination: str, ship_from: str = "CN", **item) -> dict:
    return {
        "date": "2026-11-01",
        "transaction_type": "reexport",
        "ship_from": ship_from,
        "destination": destination,
        "item": {"kind": "ic", "tpp": 5000, "die_area_mm2": 814, "marketed_for_datacenter": True, **item},
        "end_user": {"country": destination, "headquarters_country": destination, "listed": False},
        "origin": {"us_origin": True},
    }


@pytest.mark.parametrize("destination", ["TW", "IL", "DE", "JP"])
def test_spec_only_3a090_waits_for_its_base_entry(destination):
    r = check(_chip(destination))
    assert r.eccn == "3A090.a"
    assert r.license_required == "needs_review"
    assert any(m.startswith("base_eccn") for m in r.missing)
    assert not any(m.startswith("eccn_declared") for m in r.missing)  # optional: not a fact to ask for


def test_each_conditional_base_answer_is_the_check_with_that_base():
    r = check(_chip("TW"))
    settled = {c.if_["base_eccn"]: c.license_required for c in r.conditional if "base_eccn" in c.if_}
    assert settled.get("3A001") == "yes"  # 3A001.z: NS 2, Taiwan has an X
    assert "no" in settled.values()  # e.g. 3A991 / EAR99: plain 3A090.a, no licence to Taiwan
    for base, verdict in settled.items():
        assert check(_chip("TW", base_eccn=base)).license_required == verdict


def test_a_stated_classification_needs_no_base():
    assert check(_chip("TW", base_eccn="3A991")).license_required == "no"
    assert check(_chip("TW", eccn="3A090.a")).license_required == "no"  # the exporter's own classification
    assert check(_chip("TW", base_eccn="3A001")).license_required == "yes"


def test_before_the_z_paragraphs_existed_the_base_is_not_asked():
    t = _chip("TW")
    t["date"] = "2023-06-01"  # .z paragraphs came with 88 FR 73458, effective 2023-11-17
    r = check(t)
    assert not any(m.startswith("base_eccn") for m in r.missing)


def _ledger(n: int) -> pl.DataFrame:
    return pl.DataFrame({
        "date": ["2026-11-01"] * n,
        "item_kind": ["ic"] * n,
        "tpp": [5000.0 + i for i in range(n)],
        "die_area_mm2": [800.0] * n,
        "marketed_for_datacenter": [True] * n,
        "base_eccn": ["3A991"] * n,
        "destination": ["DE"] * n,
        "end_user_country": ["DE"] * n,
        "end_user_hq_country": ["DE"] * n,
        "end_user_listed": [False] * n,
        "us_origin": [True] * n,
    }).with_columns(pl.col("date").str.to_date())


@pytest.mark.parametrize(("column", "bad"), [
    ("tpp", math.inf), ("tpp", -math.inf), ("tpp", -5.0),
    ("us_controlled_content_pct", 150.0),
    # facts no rule reads that day are in no signature: they must be checked on every row
    ("value_usd", math.inf), ("interconnect_gb_s", math.inf), ("quantity", -1.0),
])
def test_out_of_range_number_in_a_bucketed_ledger_is_an_input_error(column, bad):
    n = 40 * SMALL
    frame = _ledger(n)
    if column != "tpp":  # many distinct values, so the column would be bucketed if a rule read it
        frame = frame.with_columns((1.0 + pl.int_range(n).cast(pl.Float64) * 0.001).alias(column))
    frame = frame.with_columns(
        pl.when(pl.int_range(n) == n // 2).then(pl.lit(bad)).otherwise(pl.col(column)).alias(column))
    out = evaluate(frame)
    assert out.height == n
    assert out["license_required"][n // 2] == "needs_review"
    assert column in out["error"][n // 2]
    assert set(out["license_required"].gather([0, n - 1])) == {"no"}  # the valid rows keep their answer
