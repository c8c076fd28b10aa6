"""The REST API over real HTTP: a uvicorn server in a subprocess, httpx as the client."""

from __future__ import annotations

import io
import time

import httpx
import polars as pl
import pytest

from carveout.service.testing import Server, make_key

SHIPMENT = {"date": "2024-01-10", "item": {"kind": "ic", "name": "H100", "tpp": 5000, "die_area_mm2": 814},
            "destination": "CN", "ship_from": "US", "origin": {"us_origin": True}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("api")
    key = make_key(d / "carveout.duckdb")
    srv = Server(d / "carveout.duckdb", "--max-ledger-rows", "500", "--max-body-bytes", "65536").start()
    yield srv, key
    srv.stop()


@pytest.fixture()
def client(server):
    srv, key = server
    with httpx.Client(base_url=srv.url, headers={"X-API-Key": key}, timeout=30) as c:
        yield c


def test_openapi_lists_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for p in ("/v1/classify", "/v1/check", "/v1/batch", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/results",
              "/v1/screen", "/v1/scenario/diff", "/v1/frontier", "/v1/frontier/jobs", "/v1/frontier/jobs/{job_id}",
              "/v1/audit/{audit_id}", "/v1/audit/verify"):
        assert p in paths
    assert spec["paths"]["/v1/frontier"]["post"].get("deprecated") is True  # synchronous; superseded by the jobs
    assert "202" in spec["paths"]["/v1/frontier/jobs"]["post"]["responses"]
    assert "X-API-Key" in str(spec["components"]["securitySchemes"])


def test_requests_need_a_valid_key(server):
    srv, _ = server
    r = httpx.post(f"{srv.url}/v1/check", json=SHIPMENT)
    assert r.status_code == 401 and r.json()["field"] == "X-API-Key"
    r = httpx.post(f"{srv.url}/v1/check", json=SHIPMENT, headers={"X-API-Key": "co_deadbeef_nope"})
    assert r.status_code == 401 and "not a valid key" in r.json()["message"]


def test_check_answers_with_reasons_and_an_audit_record(client):
    r = client.post("/v1/check", json=SHIPMENT)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["license_required"] == "yes" and d["eccn"] == "3A090.a"
    assert d["reasons"][0]["rule"].startswith("ccl.3a090") and d["reasons"][0]["citation"].startswith("15 CFR")
    a = client.get(f"/v1/audit/{d['audit_id']}").json()
    assert a["same_answer"] is True and a["rules_version_changed"] is False
    assert a["determination"]["audit"]["inputs_hash"] and a["determination"]["rules_version"] == d["rules_version"]


def test_validation_error_names_the_field(client):
    r = client.post("/v1/check", json={**SHIPMENT, "item": {"kind": "ic", "tpp": -1}})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "validation_error" and body["field"] == "item.tpp"
    assert "Traceback" not in r.text
    r = client.post("/v1/check", json={**SHIPMENT, "destination": "China"})
    assert r.json()["field"] == "destination"
    r = client.post("/v1/check", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "validation_error"


def test_body_over_the_limit_is_refused_with_413(client):
    big = {**SHIPMENT, "exporter": "x" * 70_000}
    r = client.post("/v1/check", json=big)
    assert r.status_code == 413 and r.json() == {**r.json(), "error": "too_large", "field": "body"}


def test_classify(client):
    r = client.post("/v1/classify", json={"kind": "ic", "tpp": 5000})
    assert r.status_code == 200 and r.json()["eccn"] == "3A090.a"
    r = client.post("/v1/classify", json={"kind": "ic"})
    assert r.json()["status"] == "needs_review" and r.json()["missing"]


def test_screen(client):
    r = client.get("/v1/screen", params={"name": "Huawei Technologies Co., Ltd.", "country": "CN"})
    if r.status_code == 503:
        pytest.skip("screening not installed")
    assert r.status_code == 200 and r.json()["status"] == "match"
    assert client.get("/v1/screen", params={"name": "x", "country": "China"}).json()["field"] == "country"


def _ledger_csv(n: int) -> bytes:
    rows = [{"date": "2024-03-01", "item_kind": "ic", "item_name": f"chip{i}", "tpp": 5000 if i % 2 else 100,
             "die_area_mm2": 800, "destination": "CN" if i % 3 else "DE", "ship_from": "US", "us_origin": "true",
             "value_usd": 1000 * i} for i in range(n)]
    buf = io.BytesIO()
    pl.DataFrame(rows).write_csv(buf)
    return buf.getvalue()


def _wait(client, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = client.get(f"/v1/jobs/{job_id}").json()
        if j["status"] in ("done", "failed"):
            return j
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not done: {j}")


def test_batch_job_progress_and_downloads(client):
    r = client.post("/v1/batch", files={"file": ("ledger.csv", _ledger_csv(120), "text/csv")})
    assert r.status_code == 202, r.text
    job = _wait(client, r.json()["id"])
    assert job["status"] == "done" and job["done_rows"] == job["total_rows"] == 120
    assert sum(job["summary"]["by_verdict"].values()) == 120
    csv = pl.read_csv(io.BytesIO(client.get(job["links"]["results_csv"]).content))
    assert csv.height == 120 and csv["row"].to_list() == list(range(1, 121))
    pq = pl.read_parquet(io.BytesIO(client.get(job["links"]["results_parquet"]).content))
    assert pq.height == 120 and pq.schema["reasons"] == pl.List(pl.String)
    assert set(pq["license_required"]) <= {"yes", "no", "needs_review"}
    assert client.get(f"/v1/jobs/{job['id']}/results", params={"format": "xlsx"}).json()["field"] == "format"


def test_batch_limits(client):
    r = client.post("/v1/batch", files={"file": ("big.csv", _ledger_csv(501), "text/csv")})
    assert r.status_code == 413 and r.json()["error"] == "too_many_rows" and r.json()["field"] == "file"
    r = client.post("/v1/batch", files={"file": ("notes.txt", b"hello", "text/plain")})
    assert r.status_code == 415 and r.json()["field"] == "file"
    r = client.post("/v1/batch", files={"file": ("bad.parquet", b"not parquet", "application/octet-stream")})
    assert r.status_code == 422 and r.json()["field"] == "file"
    assert client.get("/v1/jobs/b_nope").status_code == 404


def test_scenario_diff_on_transactions(client):
    r = client.post("/v1/scenario/diff", json={"scenario": "baseline", "transactions": [SHIPMENT]})
    if r.status_code == 503:
        pytest.skip("scenarios not installed")
    assert r.status_code == 200, r.text
    assert r.json()["summary"]["rows_changed"] == 0
    r = client.post("/v1/scenario/diff", json={"scenario": {"name": "Bad Name"}, "transactions": [SHIPMENT]})
    assert r.status_code == 422 and r.json()["field"].startswith("scenario")


def test_audit_verify_and_unknown_record(client):
    v = client.get("/v1/audit/verify").json()
    assert v["ok"] is True and v["checked"] >= 1
    r = client.get("/v1/audit/999999999")
    assert r.status_code == 404 and r.json()["field"] == "audit_id"
    assert client.get("/v1/audit/abc").json()["field"] == "audit_id"


FAB_SHIPMENT = {"date": "2026-03-02", "item": {"kind": "equipment", "name": "ALD deposition system",
                                                "eccn": "3B001.c"},
                "destination": "CN", "ship_from": "US", "origin": {"us_origin": True}, "value_usd": 5_000_000,
                "facility_id": "SKH-WUXI", "end_use": "advanced_node_dram_fab",
                "end_user": {"name": "SK hynix Semiconductor (China) Ltd.", "country": "CN",
                             "headquarters_country": "KR"}}


def test_frontier_job_runs_in_the_background(client):
    body = {"scenario": "flexibility_package", "candidates": "veu_exemptions", "max_combinations": 4,
            "transactions": [SHIPMENT, FAB_SHIPMENT]}
    r = client.post("/v1/frontier/jobs", json=body)
    if r.status_code == 503:
        pytest.skip("frontier not installed")
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["id"].startswith("f_") and job["status"] in ("queued", "running", "done")
    assert job["total_combinations"] == 4 and job["result"] is None and job["links"]["self"].endswith(job["id"])
    deadline = time.monotonic() + 60
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        assert 0 <= job["done_combinations"] <= 4
        time.sleep(0.2)
        job = client.get(f"/v1/frontier/jobs/{job['id']}").json()
    assert job["status"] == "done", job
    assert job["done_combinations"] == 4 and job["finished_at"]
    res = job["result"]
    assert len(res["points"]) == 4 and res["frontier"] and res["chart"]["mark"]["type"] == "circle"
    assert res["stats"]["combinations"] == 4 and res["stats"]["rows"] == 2
    # the synchronous endpoint still answers the same
    sync = client.post("/v1/frontier", json=body, timeout=60)
    assert sync.status_code == 200, sync.text
    assert [p["exemptions"] for p in sync.json()["points"]] == [p["exemptions"] for p in res["points"]]
    assert [p["relief_usd"] for p in sync.json()["points"]] == [p["relief_usd"] for p in res["points"]]


def test_frontier_job_validates_before_queueing(client):
    r = client.post("/v1/frontier/jobs", json={"scenario": "no_such_scenario", "transactions": [SHIPMENT]})
    if r.status_code == 503:
        pytest.skip("frontier not installed")
    assert r.status_code == 422 and r.json()["field"] == "scenario"
    r = client.post("/v1/frontier/jobs", json={"candidates": "nope", "transactions": [SHIPMENT]})
    assert r.status_code == 422 and r.json()["field"] == "candidates"
    r = client.post("/v1/frontier/jobs", json={"job_id": "b_nope"})
    assert r.status_code == 404 and r.json()["field"] == "job_id"
    r = client.post("/v1/frontier/jobs", json={"transactions": [SHIPMENT], "max_combinations": 1})
    assert r.status_code == 422 and r.json()["field"] == "max_combinations"
    r = client.post("/v1/frontier/jobs", json={})
    assert r.status_code == 422 and r.json()["field"] == "transactions"
    assert client.get("/v1/frontier/jobs/f_nope").status_code == 404
    batch = client.post("/v1/batch", files={"file": ("ledger.csv", _ledger_csv(3), "text/csv")}).json()
    assert client.get(f"/v1/frontier/jobs/{batch['id']}").status_code == 404  # a batch job is not a frontier job


def test_frontier_jobs_are_bounded(tmp_path):
    key = make_key(tmp_path / "carveout.duckdb")
    with Server(tmp_path / "carveout.duckdb", "--max-frontier-jobs", "1") as srv, \
            httpx.Client(base_url=srv.url, headers={"X-API-Key": key}, timeout=30) as c:
        body = {"transactions": [SHIPMENT, FAB_SHIPMENT]}  # all 128 designs: seconds of work
        first = c.post("/v1/frontier/jobs", json=body)
        if first.status_code == 503:
            pytest.skip("frontier not installed")
        assert first.status_code == 202, first.text
        second = c.post("/v1/frontier/jobs", json=body)
        assert second.status_code == 429 and second.json()["error"] == "busy", second.text
        assert second.headers["retry-after"]
