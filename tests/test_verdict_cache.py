"""The verdict cache and signature buckets never change an answer.

* Bucketing: rows whose continuous facts differ but sit in the same bucket (the same side of, or on, every
  threshold the rules compare them with) get the verdict the unbucketed engine gives each of them, on
  values chosen where bugs live: the thresholds themselves, the floats next to them, 0, -0.0, NaN, inf.
* Caching: after a cache was filled by other rows, dates, rule sets, scenarios and fact edits, every
  answer equals a cold evaluation; a rule set with other parameters never sees the baseline's verdicts.
* Distinct signatures are bounded by the rules: a ledger where every row differs in its numbers needs
  far fewer evaluations than rows.
"""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import LICENCE_DAYS, SETTINGS, shipment

from carveout import api, engine
from carveout.engine import BASELINE, OUTPUT_COLUMNS, RuleSet, evaluate
from carveout.signatures import VerdictCache

FLOATS = [
    "tpp",
    "die_area_mm2",
    "interconnect_gb_s",
    "memory_bandwidth_density_gb_s_mm2",
    "memory_bandwidth_gb_s",
    "us_controlled_content_pct",
    "mac_tops",
    "bit_length",
    "performance_density",
]


def thresholds() -> list[float]:
    """Every threshold any epoch's rules compare a continuous fact with (read from the plans)."""
    out: set[float] = set()
    for e in range(len(BASELINE.boundaries) + 1):
        for ts in engine._buckets(BASELINE, e).cuts.values():
            out.update(ts)
    return sorted(out)


EDGES = sorted(
    {x for t in thresholds() for x in (t, math.nextafter(t, -math.inf), math.nextafter(t, math.inf))}
    | {0.0, -0.0, 1e-300, -1.0}
)
EDGY = st.one_of(
    st.sampled_from(EDGES),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)


@st.composite
def edgy_row(draw) -> dict:
    row = draw(shipment())
    for c in FLOATS:
        if draw(st.booleans()):
            row[c] = draw(EDGY)
    if draw(st.booleans()):  # TPP from its sources
        row["tpp"] = None
    row["date"] = draw(st.one_of(st.none(), st.sampled_from(LICENCE_DAYS)))
    return row


def exact() -> RuleSet:
    """The reference: same compiled rules, an empty cache, continuous facts keyed on their exact value."""
    return RuleSet(plans=BASELINE.plans)


def frame(rows: list[dict]) -> pl.DataFrame:
    schema = {c: pl.Float64 for c in FLOATS}
    return api.frame_of(rows).with_columns(pl.col(c).cast(t) for c, t in schema.items())


@pytest.fixture
def bucket_everything(monkeypatch):
    """Take every path: Python keys for small frames, hashing plus bucket grouping for the rest."""
    monkeypatch.setattr(engine, "SMALL", 3)
    monkeypatch.setattr(engine, "BUCKET_AT", 0)


def reference(rows: list[dict], monkeypatch) -> pl.DataFrame:
    with monkeypatch.context() as m:
        m.setattr(engine, "BUCKETED", False)
        m.setattr(engine, "BUCKET_AT", 10**9)
        return evaluate(frame(rows), ruleset=exact(), screen=False)


@settings(max_examples=40, **SETTINGS)
@given(warm=st.lists(edgy_row(), min_size=1, max_size=12), rows=st.lists(edgy_row(), min_size=1, max_size=12))
def test_buckets_and_cache_agree_with_exact_evaluation(warm, rows, monkeypatch_session):
    rs = RuleSet(plans=BASELINE.plans)
    evaluate(frame(warm), ruleset=rs, screen=False)  # fills the cache with other values in the same buckets
    got = evaluate(frame(warm + rows), ruleset=rs, screen=False)
    want = reference(warm + rows, monkeypatch_session)
    assert got.columns == want.columns
    for a, b in zip(got.iter_rows(named=True), want.iter_rows(named=True), strict=True):
        assert {c: a[c] for c in OUTPUT_COLUMNS} == {c: b[c] for c in OUTPUT_COLUMNS}, (a, b)
        assert _same_float(a["tpp"], b["tpp"]) and _same_float(a["performance_density"], b["performance_density"])


def _same_float(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and (a == b or (a != a and b != b)))


@pytest.fixture(scope="module")
def monkeypatch_session():
    mp = pytest.MonkeyPatch()
    mp.setattr(engine, "SMALL", 3)
    mp.setattr(engine, "BUCKET_AT", 0)
    yield mp
    mp.undo()


def test_bucket_neighbours_share_a_verdict_and_a_cache_entry(bucket_everything):
    """On a 2,000 mm2 die, 4000 and 4799.999 TPP are the same signature under the 2025 rules (3A090.b,
    density between 1.6 and 3.2); 4800 is not, and neither is the next float above it."""
    base = dict(
        item_kind="ic",
        die_area_mm2=2000.0,
        marketed_for_datacenter=True,
        destination="CN",
        ship_from="US",
        end_user_listed=False,
        end_use="datacenter",
        date=date(2025, 3, 1),
    )
    rs = RuleSet(plans=BASELINE.plans)
    rows = [{**base, "tpp": t} for t in (4000.0, math.nextafter(4800.0, 0), 4800.0, 4800.0 + 1e-9)]
    out = evaluate(frame(rows), ruleset=rs, screen=False)
    assert out["eccn"].to_list()[2:] == ["3A090.a", "3A090.a"]
    assert out["eccn"].to_list()[:2] == ["3A090.b", "3A090.b"]
    assert out["tpp"].to_list() == [r["tpp"] for r in rows]  # the row's own value, not its bucket's
    assert len(rs.verdicts.slots) == 3  # below 4800 (twice), at 4800, above 4800


def test_distinct_signatures_are_bounded_by_the_rules(monkeypatch):
    """Every row its own set of numbers: the evaluations needed are bounded by the thresholds."""
    monkeypatch.setattr(engine, "BUCKET_AT", 0)
    n = 4000
    rows = [
        dict(
            item_kind="ic",
            tpp=1000.0 + 7.3 * i,
            die_area_mm2=300.0 + (i % 97) * 3.1,
            marketed_for_datacenter=True,
            destination="CN",
            ship_from="US",
            end_user_listed=False,
            end_use="datacenter",
            us_controlled_content_pct=(i % 1000) / 10,
            date=date(2025, 3, 1),
        )
        for i in range(n)
    ]
    rs = RuleSet(plans=BASELINE.plans)
    got = evaluate(frame(rows), ruleset=rs, screen=False)
    assert len(rs.verdicts.slots) < 60, len(rs.verdicts.slots)
    with monkeypatch.context() as m:
        m.setattr(engine, "BUCKETED", False)
        m.setattr(engine, "BUCKET_AT", 10**9)
        want = evaluate(frame(rows), ruleset=exact(), screen=False)
    assert got.select(OUTPUT_COLUMNS).equals(want.select(OUTPUT_COLUMNS))


def test_rule_sets_and_fact_edits_never_share_verdicts():
    """A scenario's rule set (other thresholds, a publication date, a fact edit) never answers from the
    baseline's cache, and the baseline never from theirs."""
    row = dict(
        item_kind="ic",
        tpp=4000.0,
        die_area_mm2=800.0,
        marketed_for_datacenter=False,
        destination="CN",
        ship_from="US",
        end_user_listed=False,
        end_use="datacenter",
        date=date(2025, 3, 1),
    )
    f = frame([row])
    assert evaluate(f, screen=False)["eccn"][0] != "3A090.a"  # baseline, now cached
    lower = RuleSet(overrides=[(date(2022, 10, 7), {"tpp_min_a": 3000})], label="lower")
    assert evaluate(f, ruleset=lower, screen=False)["eccn"][0] == "3A090.a"
    assert evaluate(f, screen=False)["eccn"][0] != "3A090.a"

    def listed(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(end_user_listed=pl.lit(True), entity_list_footnote=pl.lit(0, pl.Int8))

    edited = RuleSet(fact_edits=(listed,), label="listed")
    base = evaluate(f, screen=False)["license_required"][0]
    assert evaluate(f, ruleset=edited, screen=False)["license_required"][0] == "yes"
    assert evaluate(f, screen=False)["license_required"][0] == base
    # Rules as known on 2022-10-01: none of the 3A090 parameters published yet, so the answer differs.
    early = RuleSet(published_by=date(2022, 10, 1), label="published-2022-10-01")
    known = evaluate(f, screen=False).select(OUTPUT_COLUMNS).row(0)
    assert evaluate(f, ruleset=early, screen=False).select(OUTPUT_COLUMNS).row(0) != known
    assert evaluate(f, screen=False).select(OUTPUT_COLUMNS).row(0) == known


def test_dates_are_part_of_the_key():
    """The same facts on days in different rule epochs: each answer is the one a cold evaluation gives."""
    row = dict(
        item_kind="ic",
        tpp=5000.0,
        die_area_mm2=800.0,
        marketed_for_datacenter=True,
        destination="MO",
        ship_from="US",
        end_user_listed=False,
        end_use="datacenter",
    )
    days = [date(2022, 11, 1), date(2023, 2, 1), date(2024, 1, 1), date(2025, 2, 1), None]
    rows = [{**row, "date": d} for d in days]
    warm = evaluate(frame(rows), screen=False)
    for i, r in enumerate(rows):
        cold = evaluate(frame([r]), ruleset=exact(), screen=False).row(0, named=True)
        assert {c: warm.row(i, named=True)[c] for c in OUTPUT_COLUMNS} == {c: cold[c] for c in OUTPUT_COLUMNS}
    assert warm["rules_version"].n_unique() == len(days)  # each row got its own day's rules, not a neighbour's


def test_cache_is_bounded_and_stays_right():
    """A tiny cache evicts and compacts while answers stay those of an exact, cold evaluation."""
    rs = RuleSet(plans=BASELINE.plans, verdicts=VerdictCache(capacity=5))
    rows = [
        dict(
            item_kind="ic",
            tpp=float(t),
            die_area_mm2=800.0,
            marketed_for_datacenter=True,
            destination=d,
            ship_from="US",
            end_user_listed=False,
            end_use="datacenter",
            date=date(2025, 3, 1),
        )
        for t in (1000, 2000, 3000, 5000, 30000)
        for d in ("CN", "NL", "MO", "US", "AE")
    ]
    for _ in range(3):
        for r in rows:
            got = evaluate(frame([r]), ruleset=rs, screen=False)
            assert (
                got["license_required"][0] == evaluate(frame([r]), ruleset=exact(), screen=False)["license_required"][0]
            )
    assert len(rs.verdicts.slots) <= 5
    assert rs.verdicts.frame.height <= 2 * 1024


def test_only_literal_comparisons_are_bucketed():
    """A fact compared with literals (also through when/then over literals) or tested for null is bucketed
    at those values; arithmetic, a cast, or a comparison with another column keeps it exact."""
    from carveout.signatures import analyse

    e = (
        (pl.col("a") >= 4800)
        & (pl.col("a") < pl.lit(2.5))
        & (pl.col("b") > pl.when(pl.col("d") == "x").then(pl.lit(10)).otherwise(pl.lit(25.0)))
        & (pl.col("c") * 2 > 3)
        & pl.col("e").is_null()
        & (pl.col("f") > pl.col("h"))
        & (pl.col("g") <= pl.lit(3) * 2)
        & (pl.col("i").cast(pl.Int32) > 3)
    )
    got = analyse([e], ["a", "b", "c", "e", "f", "g", "h", "i", "unused"])
    assert got.cuts == {"a": (2.5, 4800.0), "b": (10.0, 25.0), "e": (), "unused": ()}


@settings(max_examples=200, **SETTINGS)
@given(
    xs=st.lists(
        st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(EDGES)),
        min_size=1,
        max_size=40,
    )
)
def test_bucket_code_and_expression_agree_with_comparisons(xs):
    """Same bucket (in Python, for keys) <=> same Polars bucket (for grouping) <=> same answer to every
    comparison with every threshold."""
    from carveout.signatures import Buckets

    ts = tuple(sorted({1600.0, 4800.0, 0.0, 5.92}))
    b = Buckets({"x": ts})
    frame = pl.DataFrame({"x": xs}, schema={"x": pl.Float64})
    polars_codes = frame.select(b.expr("x")).to_series().to_list()
    answers = frame.select(
        [
            op(pl.col("x"), t).alias(f"{i}{t}")
            for t in ts
            for i, op in enumerate([pl.Expr.ge, pl.Expr.gt, pl.Expr.le, pl.Expr.lt, pl.Expr.eq])
        ]
    ).rows()
    keys = [b.code("x", x) for x in xs]
    for i in range(len(xs)):
        for j in range(len(xs)):
            if keys[i] == keys[j]:
                assert answers[i] == answers[j], (xs[i], xs[j])
                assert polars_codes[i] == polars_codes[j], (xs[i], xs[j])
            if polars_codes[i] == polars_codes[j]:
                assert answers[i] == answers[j], (xs[i], xs[j])
