"""The REST check response carries the conditional answers (real HTTP, uvicorn in a subprocess)."""

from __future__ import annotations

import httpx

from carveout.service.testing import Server, make_key


def test_rest_check_includes_conditional(tmp_path):
    key = make_key(tmp_path / "carveout.duckdb")
    srv = Server(tmp_path / "carveout.duckdb").start()
    try:
        txn = {
            "date": "2024-06-01",
            "item": {"kind": "ic", "tpp": 1000, "die_area_mm2": 800, "marketed_for_datacenter": False},
            "destination": "CN",
            "ship_from": "US",
            "end_use": "civil_other",
            "end_user": {"listed": False, "headquarters_country": "CN"},
        }
        r = httpx.post(f"{srv.url}/v1/check", json=txn, headers={"X-API-Key": key}, timeout=60)
        assert r.status_code == 200, r.text
        d = r.json()
        assert d["license_required"] == "needs_review"
        answers = {e["if"]["base_eccn"]: e["license_required"] for e in d["conditional"] if "base_eccn" in e["if"]}
        assert answers["EAR99"] == "no" and answers["3A001"] == "yes"
    finally:
        srv.stop()
