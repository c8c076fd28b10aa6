"""as_of is a date wherever it is accepted: a date, a datetime or an ISO string give the same answer,
and a string that is not a date is an error that says so."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

import carveout
from carveout.api import frame_of
from carveout.scenarios.diff import diff

SPEC = {"kind": "ic", "tpp": 5000, "die_area_mm2": 800, "marketed_for_datacenter": True}
TXN = {
    "item": SPEC,
    "destination": "CN",
    "ship_from": "US",
    "end_use": "civil_other",
    "end_user": {"listed": False, "headquarters_country": "CN"},
}


@pytest.mark.parametrize("as_of", [date(2024, 1, 15), "2024-01-15", " 2024-01-15 ", datetime(2024, 1, 15, 9, 30)])
def test_classify_check_evaluate_accept_iso_strings(as_of):
    c = carveout.classify(SPEC, as_of=as_of)
    assert (c.eccn, c.as_of) == ("3A090.a", date(2024, 1, 15))
    d = carveout.check(TXN, as_of=as_of)
    assert d.as_of == date(2024, 1, 15) and d.license_required == "yes"
    out = carveout.evaluate(frame_of([{"item_kind": "ic", "tpp": 5000.0}]), as_of=as_of, screen=False)
    assert out["day"].to_list() == [date(2024, 1, 15)]


def test_the_date_decides_not_the_type():
    # The 2022 text needed the I/O test; a string date must select that text like a date does.
    assert carveout.classify(SPEC, as_of="2023-06-01").eccn == carveout.classify(SPEC, as_of=date(2023, 6, 1)).eccn


@pytest.mark.parametrize("bad", ["2024-13-15", "15/01/2024", "yesterday", ""])
def test_bad_strings_are_clear_errors(bad):
    for call in (
        lambda: carveout.classify(SPEC, as_of=bad),
        lambda: carveout.check(TXN, as_of=bad),
        lambda: carveout.evaluate(frame_of([{"item_kind": "ic"}]), as_of=bad),
    ):
        with pytest.raises(ValueError, match="as_of: .* is not a date; write it as YYYY-MM-DD"):
            call()


def test_scenario_diff_bad_date(tmp_path):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        diff(pl.DataFrame({"item_kind": ["ic"]}), "baseline", as_of="2024/01/15")
