"""Metamorphic fail-closed properties (issue #10 item 2), bounded for the default suite.

Take transactions whose verdict is "yes"; corrupt one fact (unknown code, case, whitespace, zero-width and
full-width characters, wrong type, NaN/inf, missing, contradictory pair; see
``tests/adversarial/corruptions.py``); the answer must be an input error, "yes" or "needs_review", never
"no" — through ``check()``, ``evaluate()``, the CLI ledger and REST batch over HTTP. The >= 100,000-case
version is ``benchmarks/adversarial_failclosed.py``.
"""

from __future__ import annotations

import io
import os
import random
import time

import httpx
import polars as pl
import pytest
from adversarial import corruptions as cx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from carveout.api import check
from carveout.cli import app
from carveout.engine import evaluate
from carveout.service.testing import Server, make_key

SETTINGS = dict(
    derandomize=bool(os.environ.get("CI")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
BASES = cx.yes_transactions(16, seed=20261201)
FACTS = list(cx.NESTED)


def _corruption(data: st.DataObject) -> tuple[dict, cx.Corruption]:
    base = data.draw(st.sampled_from(BASES), label="base")
    fact = data.draw(st.sampled_from(FACTS), label="fact")
    options = cx.corruptions(fact, base.get(fact), random.Random(data.draw(st.integers(0, 2**32), label="seed")),
                             base)
    if not options:
        return base, None
    c = data.draw(st.sampled_from(options), label="corruption")
    return base, c


def test_the_bases_need_a_licence_through_check():
    for b in BASES[:4]:
        assert check(cx.nested(b)).license_required == "yes"


@settings(max_examples=60, **SETTINGS)
@given(st.data())
def test_check_never_answers_no_to_a_corrupted_yes(data):
    base, c = _corruption(data)
    if c is None:
        return
    try:
        verdict = check(cx.nested(cx.apply(base, c))).license_required
    except ValidationError:
        return  # an input error naming the field: safe
    assert verdict in ("yes", "needs_review"), (c, cx.nested(cx.apply(base, c)))


@settings(max_examples=25, **SETTINGS)
@given(st.data())
def test_evaluate_never_answers_no_to_a_corrupted_yes(data):
    """The same corruption on every base, as one frame (a corrupted column has one dtype for all rows)."""
    fact = data.draw(st.sampled_from(FACTS), label="fact")
    rng = random.Random(data.draw(st.integers(0, 2**32), label="seed"))
    kinds = sorted({c.kind for b in BASES for c in cx.corruptions(fact, b.get(fact), random.Random(0), b)})
    if not kinds:
        return
    kind = data.draw(st.sampled_from(kinds), label="kind")
    rows, values = [], []
    for b in BASES:
        options = [c for c in cx.corruptions(fact, b.get(fact), rng, b) if c.kind == kind]
        if options:
            c = options[0]
            rows.append(cx.apply(b, c))
            values.append(c.value)
    if not rows:
        return
    out = evaluate(cx.frame_with(rows, fact, values))
    assert out.height == len(rows)
    bad = out.filter(pl.col("license_required") == "no")
    assert bad.height == 0, (fact, kind, bad.select(fact).to_series().to_list())


def _sample_cases(seed: int, n: int) -> list[tuple]:
    rng = random.Random(seed)
    every = list(cx.cases(BASES, rng))
    return rng.sample(every, min(n, len(every)))


@settings(max_examples=2, **SETTINGS)
@given(seed=st.integers(0, 2**32))
def test_cli_ledger_never_answers_no_to_a_corrupted_yes(tmp_path_factory, seed):
    cases = _sample_cases(seed, 400)
    d = tmp_path_factory.mktemp("cli_failclosed")
    src, dst = d / "ledger.csv", d / "out.parquet"
    src.write_text(cx.ledger_text([flat for _, flat, _ in cases]), encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(src), "--out", str(dst)])
    assert res.exit_code == 0, res.output
    out = pl.read_parquet(dst)
    assert out.height == len(cases)  # every row comes out
    bad = out.filter(pl.col("license_required") == "no")["case"].to_list()
    assert not bad, [cases[int(b[2:])][2] for b in bad[:5]]


@pytest.fixture(scope="module")
def rest(tmp_path_factory):
    db = tmp_path_factory.mktemp("rest_failclosed") / "carveout.duckdb"
    key = make_key(db)
    with Server(db) as srv, httpx.Client(base_url=srv.url, headers={"X-API-Key": key}, timeout=60) as c:
        yield c


@settings(max_examples=2, **SETTINGS)
@given(seed=st.integers(0, 2**32))
def test_rest_batch_never_answers_no_to_a_corrupted_yes(rest, seed):
    cases = _sample_cases(seed, 300)
    text = cx.ledger_text([flat for _, flat, _ in cases])
    r = rest.post("/v1/batch", files={"file": ("ledger.csv", text.encode("utf-8"), "text/csv")})
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 120
    while (job := rest.get(f"/v1/jobs/{r.json()['id']}").json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert job["status"] == "done", job
    got = pl.read_csv(io.BytesIO(rest.get(job["links"]["results_csv"]).content), infer_schema=False)
    assert got.height == len(cases)
    bad = got.filter(pl.col("license_required") == "no")["row"].cast(pl.Int64).to_list()
    assert not bad, [cases[i - 1][2] for i in bad[:5]]
