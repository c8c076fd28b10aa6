"""Affiliates rule (90 FR 47201): aggregation over the ownership graph, cycles, and the rule's dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from carveout.screening import ListFormatError, Screener, affiliates_rule_status
from carveout.screening.ownership import OwnershipGraph

FIX = Path(__file__).parent / "fixtures" / "screening"
IN_FORCE = date(2025, 10, 15)


@pytest.fixture(scope="module")
def small() -> Screener:
    return Screener(FIX / "tradegov_consolidated.json", None, [FIX / "ownership_cycle.csv"])


@pytest.mark.parametrize(
    ("day", "in_force"),
    [
        (date(2025, 9, 28), False),
        (date(2025, 9, 29), True),
        (date(2025, 11, 9), True),
        (date(2025, 11, 10), False),
        (date(2026, 7, 31), False),
        (date(2026, 11, 9), False),
        (date(2026, 11, 10), True),
    ],
)
def test_rule_dates(day: date, in_force: bool) -> None:
    assert affiliates_rule_status(day)[0] is in_force


def test_aggregate_ownership_by_two_listed_parents(small: Screener) -> None:
    # 30 % (EL, footnote 4) + 25 % (EL, footnote 5) = 55 % -> affiliate
    res = small.screen("Alpha Holding Ltd.", as_of=IN_FORCE)
    aff = res.affiliate
    assert aff is not None and aff.rule_in_force and aff.affiliate
    assert aff.aggregate_percent == pytest.approx(55.0)
    assert aff.inherited_list == "EL" and res.status == "match"
    assert {link.parent for link in aff.chain} == {
        "Example Advanced Chips Co. Ltd.",
        "Sample Fab Manufacturing Corporation",
    }


def test_indirect_ownership_through_a_cycle(small: Screener) -> None:
    # Beta is 60 % owned by Alpha (itself an affiliate); Alpha and Beta hold each other: must terminate
    aff = small.screen("Beta Devices Ltd.", as_of=IN_FORCE).affiliate
    assert aff is not None and aff.affiliate and aff.aggregate_percent == pytest.approx(60.0)
    assert [link.child for link in aff.chain][0] == "Beta Devices Ltd."
    assert len(aff.chain) == 3  # Beta<-Alpha, Alpha<-EAC, Alpha<-Sample Fab


def test_below_threshold_is_not_an_affiliate(small: Screener) -> None:
    res = small.screen("Gamma Trading Ltd.", as_of=IN_FORCE)
    assert res.affiliate is not None and not res.affiliate.affiliate
    assert res.affiliate.aggregate_percent == pytest.approx(40.0) and res.status != "match"


def test_suspended_rule_returns_nothing_and_says_so(small: Screener) -> None:
    res = small.screen("Alpha Holding Ltd.", as_of=date(2026, 1, 15))
    assert res.affiliate is not None and not res.affiliate.rule_in_force and not res.affiliate.affiliate
    assert "suspended" in res.affiliate.note and res.status != "match"
    frame_out = small.screen_frame(
        __import__("polars").DataFrame(
            {
                "name": ["Alpha Holding Ltd.", "Alpha Holding Ltd."],
                "country": [None, None],
                "as_of": [date(2026, 1, 15), date(2026, 12, 1)],
            }
        )
    )
    assert frame_out["screen_status"].to_list() == ["clear", "match"]
    assert frame_out["screen_basis"].to_list() == [None, "affiliate"]


def test_default_ownership_file_is_sourced() -> None:
    graph = OwnershipGraph.load("default")
    assert graph.edges and all(e.source for e in graph.edges)


def test_malformed_ownership_file() -> None:
    with pytest.raises(ListFormatError) as err:
        OwnershipGraph.load([FIX / "malformed_ownership.csv"])
    assert err.value.line == 2 and err.value.field == "percent"
