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
              "/v1/screen", "/v1/scenario/diff", "/v1/frontier", "/v1/audit/{audit_id}", "/v1/audit/verify"):
        assert p in paths
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
