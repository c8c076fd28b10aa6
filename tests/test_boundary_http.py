"""Issue #10 over real HTTP: the REST doors share the boundary and the batch wrapper of the CLI.

Findings reproduced here: a batch row whose ``is_informed``/``red_flag`` cell cannot be read was stored (and
audited) as "no"; a ledger with its own ``row`` column failed whole; unknown codes passed ``/v1/check``.
"""

from __future__ import annotations

import io
import json
import time

import httpx
import pytest

from carveout.service.testing import Server, make_key

# Row ids are the user's; rows 2 and 3 would be "no" (a low-TPP chip to Germany) if the bad cell were dropped.
LEDGER = (
    "row,date,kind,tpp,die_area_mm2,base_eccn,destination,ship_from,us_origin,listed,headquarters_country,"
    "end_use,is_informed,red_flag,value_usd\n"
    "A-17,2025-02-10,ic,100,814,3A991,DE,US,true,false,DE,civil_other,false,false,10\n"
    "A-18,2025-02-10,ic,100,814,3A991,DE,US,true,false,DE,civil_other,maybe,false,10\n"
    "A-19,2025-02-10,ic,100,814,3A991,DE,US,true,false,DE,civil_other,false,??,10\n"
    "A-20,2025-02-10,ic,100,814,3A991,XX,US,true,false,DE,civil_other,false,false,10\n"
    'A-21,2025-02-10,ic,"15.832,0",814,3A991,DE,US,true,false,DE,civil_other,false,false,10\n'
)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    d = tmp_path_factory.mktemp("boundary_http")
    key = make_key(d / "carveout.duckdb")
    with Server(d / "carveout.duckdb") as srv, \
            httpx.Client(base_url=srv.url, headers={"X-API-Key": key}, timeout=60) as c:
        yield c


def _wait(client, job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = client.get(f"/v1/jobs/{job_id}").json()
        if j["status"] in ("done", "failed"):
            return j
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not done: {j}")


def _run(client, text: str) -> tuple[dict, list[dict]]:
    import polars as pl

    r = client.post("/v1/batch", files={"file": ("ledger.csv", text.encode(), "text/csv")})
    assert r.status_code == 202, r.text
    job = _wait(client, r.json()["id"])
    assert job["status"] == "done", job
    res = client.get(job["links"]["results_csv"])
    return job, pl.read_csv(io.BytesIO(res.content), infer_schema=False).to_dicts()


def test_batch_rows_with_unreadable_cells_are_stored_needs_review_not_no(client):
    without_ids = "\n".join(line.split(",", 1)[1] for line in LEDGER.strip().splitlines()) + "\n"
    _, rows = _run(client, without_ids)
    assert [r["license_required"] for r in rows] == ["no"] + ["needs_review"] * 4
    inputs = [json.loads(r["inputs"]) for r in rows]
    assert "is_informed" in inputs[1]["error"] and "red_flag" in inputs[2]["error"]
    assert "destination" in inputs[3]["error"] and "tpp" in inputs[4]["error"]
    # what the audit trail holds for the bad row is the same needs_review
    audit = client.get(f"/v1/audit/{rows[1]['audit_id']}").json()
    assert audit["determination"]["license_required"] == "needs_review"


def test_batch_ledger_with_its_own_row_column_runs_and_keeps_the_ids(client):
    _, rows = _run(client, LEDGER)  # used to fail whole: "A-17" cannot be a row number
    assert [r["license_required"] for r in rows] == ["no"] + ["needs_review"] * 4
    assert [r["row"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [json.loads(r["inputs"]).get("input_row") for r in rows] == ["A-17", "A-18", "A-19", "A-20", "A-21"]


@pytest.mark.parametrize(("field", "body"), [
    ("end_user.headquarters_country", {"end_user": {"headquarters_country": "Q9"}}),
    ("destination", {"destination": "UK"}),
    ("item.eccn", {"item": {"kind": "other", "eccn": "3A090a"}}),
    ("end_user", {"end_user": {"name": "X", "entity_list_footnote": 4, "listed": False}}),
])
def test_check_answers_422_naming_the_field(client, field, body):
    shipment = {"date": "2025-02-10", "item": {"kind": "ic", "tpp": 15832, "die_area_mm2": 814},
                "destination": "SG", "ship_from": "US", **body}
    r = client.post("/v1/check", json=shipment)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
