"""Invariant (#11.4): a needs_review verdict names its cause. ``missing`` is non-empty and each entry
starts with a fact the user can supply (a column of the facts frame, or the declared ``eccn``)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import LICENCE_DAYS, SETTINGS, run, shipment

import carveout
from carveout.rules.asks import USER_FACTS, fact_named


def _check_rows(rows, day):
    out = run(rows, day)
    for row, verdict, missing in zip(rows, out["license_required"], out["missing"], strict=True):
        if verdict == "needs_review":
            assert missing is not None and len(missing) > 0, (day, row)
            for entry in missing:
                assert fact_named(entry) in USER_FACTS, (day, entry, row)


@settings(max_examples=150, **SETTINGS)
@given(rows=st.lists(shipment(), min_size=1, max_size=20), day=st.sampled_from(LICENCE_DAYS))
def test_needs_review_names_a_fact_the_user_can_supply(rows, day):
    _check_rows(rows, day)


def test_declared_3b001_without_paragraph_names_the_paragraph():
    d = carveout.check(
        {
            "item": {"kind": "equipment", "eccn": "3B001"},
            "destination": "CN",
            "ship_from": "US",
            "end_use": "civil_other",
            "end_user": {"listed": False, "headquarters_country": "CN"},
        },
        as_of="2024-06-01",
    )
    assert d.license_required == "needs_review"
    named = {fact_named(m): m for m in d.missing}
    assert set(named) <= {"eccn", "base_eccn"} and "paragraph" in named["eccn"]


def test_red_flag_names_red_flag():
    d = carveout.check(
        {
            "item": {"kind": "other", "eccn": "EAR99"},
            "destination": "DE",
            "ship_from": "US",
            "end_use": "civil_other",
            "end_user": {"listed": False},
            "red_flag": True,
        },
        as_of="2024-06-01",
    )
    assert d.license_required == "needs_review" and [fact_named(m) for m in d.missing] == ["red_flag"]
