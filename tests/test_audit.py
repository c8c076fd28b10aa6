"""The audit trail end to end: SIGKILL mid-batch loses no accepted determination; CLI verify/show."""

from __future__ import annotations

import io
import time

import httpx
import polars as pl
from typer.testing import CliRunner

from carveout.service.cli import app as service_cli
from carveout.service.testing import Server, make_key


def _ledger(n: int) -> bytes:
    buf = io.BytesIO()
    pl.DataFrame({
        "date": ["2024-03-01"] * n, "item_kind": ["ic"] * n, "tpp": [float(100 + 50 * i) for i in range(n)],
        "die_area_mm2": [800.0] * n, "destination": ["CN", "DE", "MO", "KR"] * (n // 4) + ["CN"] * (n % 4),
        "ship_from": ["US"] * n, "us_origin": ["true"] * n,
    }).write_csv(buf)
    return buf.getvalue()


def test_sigkill_mid_batch_keeps_every_accepted_determination(tmp_path):
    db = tmp_path / "kill.duckdb"
    key = make_key(db)
    n = 2000
    # small chunks with a pause between them, so the job is certainly mid-way when killed
    srv = Server(db, "--chunk-rows", "50", env={"CARVEOUT_CHUNK_PAUSE": "0.05"}).start()
    h = {"X-API-Key": key}
    try:
        job = httpx.post(f"{srv.url}/v1/batch", files={"file": ("l.csv", _ledger(n), "text/csv")},
                         headers=h, timeout=30).json()
        deadline = time.monotonic() + 60
        while True:
            j = httpx.get(f"{srv.url}/v1/jobs/{job['id']}", headers=h, timeout=10).json()
            if j["done_rows"] >= 300 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        accepted = pl.read_parquet(io.BytesIO(httpx.get(
            f"{srv.url}/v1/jobs/{job['id']}/results", params={"format": "parquet"}, headers=h, timeout=30).content))
        assert 300 <= accepted.height < n, "the job must be mid-way when the server is killed"
        srv.kill()
    finally:
        srv.stop()

    # nothing accepted is lost, and the chain verifies, before any restart (straight from the file)
    out = CliRunner().invoke(service_cli, ["audit", "verify", "--db", str(db), "--json"])
    assert out.exit_code == 0, out.output
    assert '"ok": true' in out.output

    srv2 = Server(db).start()  # the interrupted job resumes from the first row not stored
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            j = httpx.get(f"{srv2.url}/v1/jobs/{job['id']}", headers=h, timeout=10).json()
            if j["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert j["status"] == "done" and j["done_rows"] == n
        after = pl.read_parquet(io.BytesIO(httpx.get(
            f"{srv2.url}/v1/jobs/{job['id']}/results", params={"format": "parquet"}, headers=h, timeout=30).content))
        assert after.height == n and after["row"].to_list() == list(range(1, n + 1))  # no row twice, none lost
        cols = ["row", "audit_id", "license_required", "eccn", "rules_version", "inputs"]
        kept = accepted.select(cols).join(after.select(cols), on=cols, how="anti", nulls_equal=True)
        assert kept.height == 0, "every determination accepted before the kill is unchanged"
        v = httpx.get(f"{srv2.url}/v1/audit/verify", headers=h, timeout=60).json()
        assert v["ok"] and v["checked"] == n
    finally:
        srv2.stop()


def test_cli_keys_verify_show(tmp_path):
    db = tmp_path / "cli.duckdb"
    r = CliRunner().invoke(service_cli, ["keys", "create", "--db", str(db), "--label", "me"])
    assert r.exit_code == 0 and "co_" in r.stdout
    from carveout.model import Transaction
    from carveout.service import runner
    from carveout.store import Store

    s = Store(db)
    _, det_id = runner.check_and_store(s, Transaction.model_validate(
        {"date": "2024-01-10", "item": {"kind": "ic", "tpp": 5000}, "destination": "CN", "ship_from": "US"}))
    s.close()
    r = CliRunner().invoke(service_cli, ["audit", "show", str(det_id), "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "same answer" in r.output and "yes" in r.output and "3A090" in r.output
    r = CliRunner().invoke(service_cli, ["audit", "verify", "--db", str(db)])
    assert r.exit_code == 0 and "intact" in r.output

    s = Store(db)
    s.con.execute("UPDATE audit SET eccn = '5A992' WHERE seq = ?", [det_id])
    s.close()
    r = CliRunner().invoke(service_cli, ["audit", "verify", "--db", str(db)])
    assert r.exit_code == 1 and f"broken at record {det_id}" in r.output
    assert CliRunner().invoke(service_cli, ["audit", "show", "999", "--db", str(db)]).exit_code == 1
