"""Micro-batched checks: the batch gives each shipment exactly what ``check`` gives it alone, and concurrent
``/v1/check`` requests over real HTTP are committed together, each answered with its own audit record."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx

from carveout import api
from carveout.model import Transaction
from carveout.service.testing import Server, make_key

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_service import varied_checks  # noqa: E402


def test_check_many_equals_check_one_by_one():
    txns = [Transaction.model_validate(t) for t in varied_checks(24, seed=11)]
    for as_of in (None, date(2025, 3, 1)):
        together = api.check_many(txns, as_of=as_of)
        alone = [api.check(t, as_of=as_of) for t in txns]
        assert [d.model_dump() for d in together] == [d.model_dump() for d in alone]


def test_concurrent_checks_share_a_commit_and_each_gets_its_record(tmp_path):
    db = tmp_path / "batch.duckdb"
    key = make_key(db)
    txns = varied_checks(24, seed=5)
    with Server(db, "--check-wait-ms", "300") as srv, httpx.Client(
            base_url=srv.url, headers={"X-API-Key": key}, timeout=60,
            limits=httpx.Limits(max_connections=32)) as c:
        with ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(lambda t: c.post("/v1/check", json=t), txns))
        assert all(r.status_code == 200 for r in answers), [r.text for r in answers if r.status_code != 200]
        ids = [r.json()["audit_id"] for r in answers]
        assert len(set(ids)) == len(txns)
        commits = set()
        for t, r in zip(txns, answers, strict=True):
            rec = c.get(f"/v1/audit/{r.json()['audit_id']}").json()
            d = rec["determination"]
            assert d["license_required"] == r.json()["license_required"]
            assert d["inputs"]["transaction"]["date"] == t["date"]
            assert rec["same_answer"] is True
            commits.add(d["created_at"])  # one timestamp per group commit
        assert len(commits) < len(txns), "concurrent checks should have been committed together"
        v = c.get("/v1/audit/verify").json()
        assert v["ok"] and v["checked"] == len(txns)
