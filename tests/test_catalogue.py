"""The embedded chips against their publicly reported classifications (data/chips.csv)."""

from datetime import date

import polars as pl
import pytest

from carveout import catalogue_data
from carveout.engine import evaluate

CHIPS = catalogue_data.chips()
# Reported labels that the published arithmetic contradicts; the engine follows the regulation's text.
CONTRADICTED = {"NVIDIA H20": "tracker says 3A090.b.2, but TPP 2368 and PD 2.91 meet neither .a nor .b"}


def test_catalogue_has_sources_for_every_row():
    assert CHIPS.height >= 20
    assert CHIPS["source"].null_count() == 0


@pytest.mark.parametrize("row", CHIPS.filter(pl.col("reported_classification").is_not_null()).to_dicts(),
                         ids=lambda r: r["item_name"])
def test_matches_reported_classification(row):
    res = evaluate(pl.DataFrame([row]), as_of=date(2025, 6, 1), screen=False).row(0, named=True)
    reported = row["reported_classification"].strip()
    if row["item_name"] in CONTRADICTED:
        assert res["eccn"] == "not 3A090/4A090"
        return
    if reported.startswith("not"):
        assert res["eccn"] == "not 3A090/4A090"
    else:
        assert res["eccn"] is not None and res["eccn"].startswith(reported), (res["eccn"], reported)


def test_a800_and_h800_escaped_2022_but_not_2023():
    rows = CHIPS.filter(pl.col("item_name").str.contains("A800|H800"))
    before = evaluate(rows, as_of=date(2023, 6, 1), screen=False)
    after = evaluate(rows, as_of=date(2023, 11, 17), screen=False)
    assert set(before["eccn"]) == {"not 3A090/4A090"}
    assert set(after["eccn"]) == {"3A090.a"}
