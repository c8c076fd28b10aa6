"""Counterfactuals (#15.2): the proposed changes, applied through check()/classify(), really flip the
answer to the reported one, and no change closer to the original on the cut-point grid (or to fewer
facts) gives that answer."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import SETTINGS

import carveout
from carveout.counterfactual import counterfactual, grid_cut_points, set_facts
from carveout.model import ItemSpec, Transaction
from carveout.variants import txn_with

H100 = {
    "kind": "ic",
    "name": "H100-class",
    "tpp": 15832,
    "die_area_mm2": 814,
    "marketed_for_datacenter": True,
    "interconnect_gb_s": 900,
}


def _answer(subject, changes: dict, day, is_txn: bool):
    if is_txn:
        d = carveout.check(txn_with(subject, changes), as_of=day, conditional=False)
        return d.license_required, d.eccn
    spec = {**subject, **changes}
    if "tpp" in changes:
        for k in ("mac_tops", "bit_length"):
            spec.pop(k, None)
    return None, carveout.classify(spec, as_of=day).eccn


def _key(result, is_txn):
    return result["license_required"] if is_txn else result["eccn"]


def _closer(fact, old, new, cp):
    """One value in each grid region strictly between the original's region and the new one (and the
    original value itself)."""
    b_old, b_new = cp.bucket(fact, old), cp.bucket(fact, new)
    step = 1 if b_new > b_old else -1
    ts, out = cp.thresholds(fact), [old]
    for b in range(b_old + step, b_new, step):
        if b % 2:
            if fact != "performance_density":  # density is realised through the area: no exact hit
                out.append(ts[(b - 1) // 2])
        else:
            lo = ts[b // 2 - 1] if b // 2 - 1 >= 0 else 0.0
            hi = ts[b // 2] if b // 2 < len(ts) else lo * 2 + 1
            out.append((lo + hi) / 2)
    return out


def _verify(subject, day, is_txn):
    res = counterfactual(subject, day)
    base = (Transaction.model_validate(subject) if is_txn else ItemSpec.model_validate(subject)).facts()
    if is_txn:
        base = {**base, "date": day}
    cp = grid_cut_points(base, res.as_of)
    orig = _key(res.original, is_txn)
    for alt in res.alternatives:
        got_l, got_e = _answer(subject, alt.set_facts, day, is_txn)
        assert (got_l if is_txn else got_e) == _key(alt.result, is_txn) != orig, (alt.describe(), subject)
        assert got_e == alt.result["eccn"]
        knobs = alt.knobs
        for f, new in knobs.items():
            old = base["tpp"] / base["die_area_mm2"] if f == "performance_density" else base[f]
            closer = [old] if isinstance(old, bool) else _closer(f, old, new, cp)
            for v in closer:
                trial = dict(knobs)
                if v == old:
                    trial.pop(f)
                else:
                    trial[f] = v
                if not trial:
                    continue
                l2, e2 = _answer(subject, set_facts(base, trial), day, is_txn)
                assert (l2 if is_txn else e2) != _key(alt.result, is_txn), (alt.describe(), f, v, subject)


def test_h100_on_2024_06_01_names_the_issue_alternatives():
    res = counterfactual(H100, "2024-06-01")
    by = {a.describe().split(" -> ")[0]: a for a in res.alternatives}
    assert by["tpp below 4800 and performance density below 1.6"].result["eccn"] == "not 3A090/4A090"
    assert by["tpp below 4800 and not marketed for datacenter"].result["eccn"] == "not 3A090/4A090"
    assert res.smallest.describe().startswith("tpp below 4800 -> 3A090.b")
    assert "smallest because it changes 1 fact" in res.explanation
    _verify(H100, date(2024, 6, 1), False)


def test_never_searches_regulatory_facts():
    txn = {
        "item": H100,
        "destination": "CN",
        "ship_from": "US",
        "end_use": "datacenter",
        "end_user": {"listed": False, "headquarters_country": "CN"},
    }
    res = counterfactual(txn, "2024-06-01")
    assert not set(res.searched) & {"date", "destination", "end_user_listed", "entity_list_footnote", "is_informed"}
    assert res.alternatives == [] and "waiting on base_eccn" in res.explanation  # below 3A090 it needs a base ECCN


SPEC = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["ic", "computer"]),
        "tpp": st.sampled_from([1000.0, 2000.0, 3000.0, 4000.0, 4900.0, 9000.0, 15832.0]),
        "die_area_mm2": st.sampled_from([100.0, 300.0, 600.0, 814.0]),
        "marketed_for_datacenter": st.booleans(),
        "interconnect_gb_s": st.sampled_from([400.0, 900.0]),
    }
)


@settings(max_examples=12, **SETTINGS)
@given(spec=SPEC, day=st.sampled_from([date(2023, 1, 1), date(2024, 6, 1), date(2026, 6, 1)]))
def test_item_counterfactuals_flip_and_are_minimal(spec, day):
    _verify(spec, day, False)


@settings(max_examples=8, **SETTINGS)
@given(
    spec=SPEC,
    pct=st.sampled_from([5.0, 20.0, 30.0, 80.0]),
    dp=st.booleans(),
    dest=st.sampled_from(["CN", "AE", "VN"]),
    day=st.sampled_from([date(2024, 6, 1), date(2025, 6, 1)]),
)
def test_transaction_counterfactuals_flip_and_are_minimal(spec, pct, dp, dest, day):
    txn = {
        "item": {**spec, "base_eccn": "3A991"},
        "destination": dest,
        "ship_from": "TW",
        "end_use": "datacenter",
        "end_user": {"listed": False, "headquarters_country": dest},
        "origin": {
            "us_origin": False,
            "us_controlled_content_pct": pct,
            "direct_product_of_us_technology": dp,
            "produced_by_us_origin_plant": False,
            "contains_us_ic": False,
        },
    }
    _verify(txn, day, True)
