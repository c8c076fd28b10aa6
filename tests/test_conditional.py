"""Conditional answers (#11.3): each conditional verdict is what check() says once that fact is supplied,
and the values tried are the ones the rules distinguish (from the cut points, not a hand list)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import LICENCE_DAYS, SETTINGS

import carveout
from carveout.rules.cutpoints import cut_points
from carveout.variants import txn_with

BELOW_3A090 = {"kind": "ic", "name": "edge chip", "tpp": 1000, "die_area_mm2": 800, "marketed_for_datacenter": False}
TO_CN = {"ship_from": "US", "destination": "CN", "end_use": "civil_other",
         "end_user": {"listed": False, "headquarters_country": "CN"}}


def _reasons(d) -> list[str]:
    return [r.rule for r in d.reasons]


def _agrees(txn: dict, entry, as_of) -> None:
    filled = carveout.check(txn_with(txn, entry.if_), as_of=as_of, conditional=False)
    assert filled.license_required == entry.license_required, (entry.if_, txn)
    assert _reasons(filled) == entry.reasons, (entry.if_, txn)
    assert filled.eccn == entry.eccn


def test_chip_below_3a090_without_base_eccn():
    txn = {"item": BELOW_3A090, **TO_CN}
    d = carveout.check(txn, as_of="2024-06-01")
    assert d.license_required == "needs_review"
    by_value = {}
    for e in d.conditional:
        assert list(e.if_) == ["base_eccn"]
        for v in [e.if_["base_eccn"], *e.also]:
            by_value[v] = e
    assert by_value["3A991"].license_required == "no"
    assert by_value["EAR99"].license_required == "no"
    assert by_value["3A001"].license_required == "yes"
    assert "part738.country_chart" in by_value["3A001"].reasons  # NS2: China is marked in NS column 2
    for e in d.conditional:
        _agrees(txn, e, "2024-06-01")


def test_numeric_facts_are_tried_in_every_region_between_thresholds():
    txn = {
        "item": {"kind": "ic", "marketed_for_datacenter": True},
        **TO_CN,
        "end_user": {"listed": False, "headquarters_country": "CN"},
    }
    d = carveout.check(txn, as_of="2024-06-01")
    tpp = [e for e in d.conditional if list(e.if_) == ["tpp"]]
    cp = cut_points(carveout.check(txn, as_of="2024-06-01", conditional=False).as_of)
    # every tpp region is covered once the neighbouring ones with the same answer are merged
    assert {cp.bucket("tpp", e.if_["tpp"]) for e in tpp} <= set(range(2 * len(cp.thresholds("tpp")) + 1))
    assert any(e.range == "tpp >= 4800" and e.license_required == "yes" for e in tpp)
    # TPP and die area together settle what neither settles alone
    pairs = [e for e in d.conditional if set(e.if_) == {"tpp", "die_area_mm2"}]
    assert {e.eccn for e in pairs} >= {"3A090.a", "3A090.b"}
    for e in tpp + pairs:
        _agrees(txn, e, "2024-06-01")


def test_settled_checks_have_no_conditional():
    d = carveout.check({"item": {**BELOW_3A090, "base_eccn": "3A991"}, **TO_CN}, as_of="2024-06-01")
    assert d.license_required == "no" and d.conditional == []


@st.composite
def partial_txn(draw) -> dict:
    maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
    item = {
        k: v
        for k, v in dict(
            kind=draw(maybe(st.sampled_from(["ic", "computer", "hbm", "equipment"]))),
            tpp=draw(maybe(st.sampled_from([800, 1600, 2500, 4000, 4800, 6000]))),
            die_area_mm2=draw(maybe(st.sampled_from([100, 400, 800]))),
            marketed_for_datacenter=draw(maybe(st.booleans())),
            base_eccn=draw(maybe(st.sampled_from(["3A991", "3A001", "5A992"]))),
            eccn=draw(st.one_of(st.none(), st.none(), st.sampled_from(["3B001", "3B001.c", "3A090.a", "EAR99"]))),
            memory_bandwidth_density_gb_s_mm2=draw(maybe(st.sampled_from([1.0, 2.5, 4.0]))),
        ).items()
        if v is not None
    }
    end_user = {
        k: v
        for k, v in dict(
            listed=draw(maybe(st.booleans())),
            headquarters_country=draw(maybe(st.sampled_from(["CN", "US", "NL"]))),
        ).items()
        if v is not None
    }
    txn = {"item": item, "end_user": end_user}
    for k, s in (
        ("destination", st.sampled_from(["CN", "MO", "NL", "AE", "IN"])),
        ("ship_from", st.just("US")),
        ("end_use", st.sampled_from(["civil_other", "advanced_node_logic_fab", "supercomputer"])),
    ):
        v = draw(maybe(s))
        if v is not None:
            txn[k] = v
    return txn


@settings(max_examples=25, **SETTINGS)
@given(txn=partial_txn(), day=st.sampled_from(LICENCE_DAYS), seed=st.integers(0, 2**16))
def test_conditional_equals_check_with_the_fact_filled_in(txn, day, seed):
    d = carveout.check(txn, as_of=day)
    if d.license_required != "needs_review":
        assert d.conditional == []
        return
    entries = list(d.conditional)
    for e in random.Random(seed).sample(entries, min(4, len(entries))):
        _agrees(txn, e, day)
        for other in e.also[:1]:  # values merged into an entry share its answer
            if not e.range:
                changes = other if isinstance(other, dict) else {next(iter(e.if_)): other}
                filled = carveout.check(txn_with(txn, changes), as_of=day, conditional=False)
                assert (filled.license_required, _reasons(filled)) == (e.license_required, e.reasons), (changes, txn)


def test_an_eccn_without_its_paragraph_is_tried_at_its_paragraphs():
    txn = {"item": {"kind": "equipment", "eccn": "3B001"}, **TO_CN}
    d = carveout.check(txn, as_of="2024-06-01")
    assert d.license_required == "needs_review" and d.conditional
    values = [v for e in d.conditional if list(e.if_) == ["eccn"] for v in [e.if_["eccn"], *e.also]]
    assert values and all(v.startswith("3B001.") for v in values)
    for e in d.conditional:
        _agrees(txn, e, "2024-06-01")
